/// The rows of some text passed through one backbone, with the byte of
/// each row, per MoE layer: the training data of an inversion model.
struct LabeledRows {
    var rows: [[Float]]
    var bytes: [[UInt8]]

    init(layers: Int) {
        rows = [[Float]](repeating: [], count: layers)
        bytes = [[UInt8]](repeating: [], count: layers)
    }
}

/// The attacks of a ``PrivacyEvaluation``, run on what the attacker observed.
struct PrivacyAttacks {
    let settings: AttackSettings
    let dimension: Int
    /// The byte frequencies the attacker takes for public text: those of its own corpus.
    let reference: [Double]

    /// How many of `count` tokens, the earliest, the known-plaintext attacks are given.
    func knownCount(_ count: Int) -> Int {
        Int(Double(count) * settings.knownShare)
    }

    /// k-means on `layer`'s rows, labeled by frequency and by known plaintext.
    func clustering(_ layer: ObservedLayer, index: Int) throws -> [AttackResult] {
        guard !layer.bytes.isEmpty else {
            return [.init(attack: .clusterFrequency, layer: index, predicted: [], truth: []),
                    .init(attack: .clusterKnown, layer: index, predicted: [], truth: [])]
        }
        let options = KMeansOptions(clusters: settings.clusters, seed: settings.seed)
        let kmeans = try KMeans(rows: layer.rows, dimension: dimension, options: options)
        return labeled(symbols: kmeans.assignments, symbolCount: kmeans.clusterCount, bytes: layer.bytes,
                       frequency: .clusterFrequency, known: .clusterKnown, layer: index)
    }

    /// The routing pattern of every observed token as one symbol, labeled by frequency and by known plaintext.
    func routing(_ observations: VictimObservations) -> [AttackResult] {
        var table = RoutingSymbols()
        let symbols = table.symbols(for: observations.routing)
        return labeled(symbols: symbols, symbolCount: table.count, bytes: observations.bytes,
                       frequency: .routingFrequency, known: .routingKnown, layer: nil)
    }

    /// An inversion model trained on `training`'s rows of `index`, applied to the victim's rows there.
    func inversion(_ kind: AttackKind, training: LabeledRows, victim layer: ObservedLayer, index: Int) throws -> AttackResult {
        guard !layer.bytes.isEmpty, !training.bytes[index].isEmpty else {
            return AttackResult(attack: kind, layer: index, predicted: [], truth: [])
        }
        var options = settings.inversion
        options.seed = settings.seed
        let model = try InversionModel(rows: training.rows[index], bytes: training.bytes[index], dimension: dimension,
                                       options: options)
        return AttackResult(attack: kind, layer: index, predicted: model.predict(layer.rows), truth: layer.bytes)
    }

    /// Scores frequency labeling on every token, and known-plaintext
    /// labeling on the tokens after the known ones.
    private func labeled(symbols: [Int], symbolCount: Int, bytes: [UInt8], frequency: AttackKind, known: AttackKind,
                         layer: Int?) -> [AttackResult] {
        let sizes = symbolCounts(symbols, symbolCount: symbolCount)
        let byFrequency = FrequencyLabeling.labels(sizes: sizes, reference: reference)

        let knownRows = knownCount(bytes.count)
        let plaintext = Dictionary(uniqueKeysWithValues: (0..<knownRows).map { ($0, bytes[$0]) })
        let byKnown = KnownPlaintextLabeling.labels(symbols: symbols, symbolCount: symbolCount, known: plaintext,
                                                    reference: reference)
        let rest = Array(symbols[knownRows...])
        return [AttackResult(attack: frequency, layer: layer,
                             predicted: FrequencyLabeling.bytes(symbols: symbols, labels: byFrequency), truth: bytes),
                AttackResult(attack: known, layer: layer,
                             predicted: FrequencyLabeling.bytes(symbols: rest, labels: byKnown),
                             truth: Array(bytes[knownRows...]))]
    }
}
