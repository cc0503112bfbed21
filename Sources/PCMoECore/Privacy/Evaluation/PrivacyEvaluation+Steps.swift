import Foundation

extension PrivacyEvaluation {
    /// Trains every round, recording the victim's batches and, after each
    /// round, the rows of the attacker's own batch through the attacker's
    /// backbone and, for the white-box bound, through the victim's.
    func train(_ session: InProcessSession) throws -> (batches: [UInt64: [UInt8]], own: LabeledRows, whiteBox: LabeledRows?) {
        let (count, rounds, layers) = (comparison.partyCount, comparison.options.steps, comparison.config.layers)
        let tokensPerBatch = comparison.options.batch * comparison.config.sequence
        let perRound = min(tokensPerBatch, max(1, (settings.inversionRows + rounds - 1) / rounds))
        var random = SplitMix64(seed: settings.seed, label: "inversion rows")
        var batches: [UInt64: [UInt8]] = [:]
        var own = LabeledRows(layers: layers)
        var whiteBox = settings.whiteBox ? LabeledRows(layers: layers) : nil
        var losses = [Double](repeating: 0, count: count)

        for round in 1...rounds {
            try checkCancelled("before round \(round) of \(rounds)")
            for (i, party) in session.parties.enumerated() {
                let turn = comparison.turn(party: i, round: round)
                let tokens = comparison.batch(party: i, round: round)
                if i == settings.victim { batches[turn] = tokens }
                losses[i] = try party.trainTurn(tokens: tokens, turn: turn).loss
            }
            let text = comparison.batch(party: settings.attacker, round: round)
            let picked = Array((0..<tokensPerBatch).shuffled(using: &random).prefix(perRound)).sorted()
            append(try session.parties[settings.attacker].moeInputs(tokens: text), of: text, picked: picked, to: &own)
            if whiteBox != nil {
                append(try session.parties[settings.victim].moeInputs(tokens: text), of: text, picked: picked, to: &whiteBox!)
            }
            onRound?(round, losses)
        }
        return (batches, own, whiteBox)
    }

    /// Adds the `picked` tokens' rows of every layer, with their input bytes.
    private func append(_ layers: [[Float]], of tokens: [UInt8], picked: [Int], to labeled: inout LabeledRows) {
        let (d, t) = (comparison.config.dModel, comparison.config.sequence)
        for (l, rows) in layers.enumerated() {
            for position in picked {
                labeled.rows[l] += rows[(position * d)..<((position + 1) * d)]
                labeled.bytes[l].append(tokens[position / t * (t + 1) + position % t])
            }
        }
    }

    /// Runs every attack on what the attacker observed, in the order of ``AttackKind``.
    func attack(_ observations: VictimObservations, own: LabeledRows, whiteBox: LabeledRows?) throws -> [AttackResult] {
        let attacks = PrivacyAttacks(settings: settings, dimension: comparison.config.dModel,
                                     reference: byteFrequencies(of: comparison.corpora[settings.attacker].train))
        let layers = observations.layers
        var results: [AttackResult] = []
        for (l, layer) in layers.enumerated() {
            try checkCancelled("before the clustering of layer \(l)")
            onStage?("k-means with \(settings.clusters) clusters per window on \(layer.bytes.count) rows of layer \(l)")
            results += try attacks.clustering(layer, index: l)
        }
        for (l, layer) in layers.enumerated() {
            try checkCancelled("before the inversion model of layer \(l)")
            onStage?("inversion model for layer \(l) on \(own.bytes[l].count) of the attacker's own rows")
            results.append(try attacks.inversion(.inversion, training: own, victim: layer, index: l))
        }
        onStage?("routing patterns of \(observations.tokens.count) tokens")
        results += attacks.routing(observations)
        if let whiteBox {
            for (l, layer) in layers.enumerated() {
                try checkCancelled("before the white-box model of layer \(l)")
                onStage?("white-box inversion model for layer \(l)")
                results.append(try attacks.inversion(.whiteBox, training: whiteBox, victim: layer, index: l))
            }
        }
        return results
    }

    private func checkCancelled(_ when: String) throws {
        if isCancelled() { throw PCMoEError.cancelled("the attacked run stopped \(when).") }
    }
}
