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

    /// Returns the rows of each window of ``AttackSettings/windowTurns`` victim
    /// turns, as ranges of `tokens`, which are in increasing turn order.
    func windows(_ tokens: [TokenKey]) -> [Range<Int>] {
        guard settings.windowTurns > 0 else { return tokens.isEmpty ? [] : [0..<tokens.count] }
        var ranges: [Range<Int>] = []
        var start = 0, turnsInWindow = 0
        for i in tokens.indices where i == 0 || tokens[i].turn != tokens[i - 1].turn {
            if turnsInWindow == settings.windowTurns {
                ranges.append(start..<i)
                (start, turnsInWindow) = (i, 0)
            }
            turnsInWindow += 1
        }
        if start < tokens.count { ranges.append(start..<tokens.count) }
        return ranges
    }

    /// k-means on `layer`'s rows, window by window, labeled by frequency and by known plaintext.
    func clustering(_ layer: ObservedLayer, index: Int) throws -> [AttackResult] {
        let d = dimension
        var symbols: [Int] = [], counts: [Int] = []
        for window in windows(layer.tokens) {
            let options = KMeansOptions(clusters: settings.clusters, seed: settings.seed)
            let kmeans = try KMeans(rows: Array(layer.rows[(window.lowerBound * d)..<(window.upperBound * d)]),
                                    dimension: d, options: options)
            symbols += kmeans.assignments
            counts.append(kmeans.clusterCount)
        }
        return labeled(symbols: symbols, counts: counts, windows: windows(layer.tokens), bytes: layer.bytes,
                       frequency: .clusterFrequency, known: .clusterKnown, layer: index)
    }

    /// Labels the routing pattern of every observed token, as one symbol per
    /// window, by frequency and by known plaintext.
    func routing(_ observations: VictimObservations) -> [AttackResult] {
        let windows = windows(observations.tokens)
        var symbols: [Int] = [], counts: [Int] = []
        for window in windows {
            var table = RoutingSymbols()
            symbols += table.symbols(for: Array(observations.routing[window]))
            counts.append(table.count)
        }
        return labeled(symbols: symbols, counts: counts, windows: windows, bytes: observations.bytes,
                       frequency: .routingFrequency, known: .routingKnown, layer: nil)
    }

    /// Trains an inversion model on `training`'s rows of `index` and applies it to the victim's rows there.
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

    /// Scores frequency labeling on every token, window by window, and
    /// known-plaintext labeling on the tokens not given as known.
    ///
    /// `symbols` numbers each window's symbols from 0; `counts` gives each window's symbol count.
    private func labeled(symbols: [Int], counts: [Int], windows: [Range<Int>], bytes: [UInt8],
                         frequency: AttackKind, known: AttackKind, layer: Int?) -> [AttackResult] {
        var byFrequency: [UInt8] = [], global: [Int] = []
        var offset = 0
        for (window, count) in zip(windows, counts) {
            let local = Array(symbols[window])
            let labels = FrequencyLabeling.sharedLabels(sizes: symbolCounts(local, symbolCount: count), reference: reference)
            byFrequency += FrequencyLabeling.bytes(symbols: local, labels: labels)
            global += local.map { $0 + offset }
            offset += count
        }

        var random = SplitMix64(seed: settings.seed, label: "known plaintext")
        let knownRows = Set(bytes.indices.shuffled(using: &random).prefix(knownCount(bytes.count)))
        let plaintext = Dictionary(uniqueKeysWithValues: knownRows.map { ($0, bytes[$0]) })
        let labels = KnownPlaintextLabeling.labels(symbols: global, symbolCount: offset, known: plaintext, reference: reference)
        let scored = bytes.indices.filter { !knownRows.contains($0) }
        return [AttackResult(attack: frequency, layer: layer, predicted: byFrequency, truth: bytes),
                AttackResult(attack: known, layer: layer, predicted: scored.map { labels[global[$0]] },
                             truth: scored.map { bytes[$0] })]
    }

    /// Returns how many of `count` tokens the known-plaintext attacks are given.
    private func knownCount(_ count: Int) -> Int {
        Int(Double(count) * settings.knownShare)
    }
}
