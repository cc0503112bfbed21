import Foundation

extension Comparison {
    /// Creates the parties of a collaborative run, sized for `partyCount ·
    /// steps` turns: with the run's seed as every backbone's seed, or with
    /// each party's ``backboneSeed(party:)`` when `privateBackbones` is set.
    func collaborativeSession(wireType: WireDType = .f32, privateBackbones: Bool, rowNoise: [Int: RowNoise] = [:],
                              ownExpertLayers: [Int: Int] = [:]) throws -> InProcessSession {
        var sessionOptions = options
        sessionOptions.steps = partyCount * options.steps
        return try InProcessSession(partyCount: partyCount, config: config, options: sessionOptions,
                                    session: (options.seed &* 0x9E37_79B9_7F4A_7C15) | 1, wireType: wireType,
                                    backboneSeeds: privateBackbones ? (0..<partyCount).map { backboneSeed(party: $0) } : nil,
                                    rowNoise: rowNoise, ownExpertLayers: ownExpertLayers)
    }

    /// Returns the global turn number of `party`'s turn in `round` (from 1):
    /// the parties take their turns in id order, round after round.
    func turn(party: Int, round: Int) -> UInt64 {
        UInt64((round - 1) * partyCount + party + 1)
    }

    func runCollaborative(_ mode: ComparisonMode, wireType: WireDType) throws -> ModeOutcome {
        let session = try collaborativeSession(wireType: wireType, privateBackbones: mode == .pcmoePrivate)
        var losses = [[Double]](repeating: [], count: partyCount)
        for round in 1...options.steps {
            try checkCancelled(mode, round: round)
            for (i, party) in session.parties.enumerated() {
                let turn = turn(party: i, round: round)
                losses[i].append(try party.trainTurn(tokens: batch(party: i, round: round), turn: turn).loss)
            }
            onRound?(mode, round, losses.map { $0.last! })
        }

        let traffic = session.parties.map(\.traffic)
        var parties = try session.parties.map { party in
            let result = try party.evaluate(corpora[party.id].validation, maxWindows: evalWindows)
            return outcome(party: party.id, result: result, ledger: party.ledger,
                           sent: traffic[party.id].sent, received: traffic[party.id].received)
        }
        // Samples come after every figure above, so they change none of them.
        for party in session.parties {
            parties[party.id].sample = try sample(party)
        }
        return ModeOutcome(mode: mode, wallSeconds: 0, rounds: options.steps, losses: losses, parties: parties)
    }

    func runCentralized() throws -> ModeOutcome {
        var centralOptions = options
        centralOptions.steps = partyCount * options.steps
        let ledger = MemoryLedger()
        let trainer = try Trainer(config: config, options: centralOptions, corpus: corpora[0], ledger: ledger)
        var losses = [[Double]](repeating: [], count: partyCount)
        for round in 1...options.steps {
            try checkCancelled(.centralized, round: round)
            for i in 0..<partyCount {
                losses[i].append(try trainer.trainStep(on: batch(party: i, round: round)).loss)
            }
            onRound?(.centralized, round, losses.map { $0.last! })
        }
        let parties = try (0..<partyCount).map { i in
            let result = try trainer.model.evaluate(corpora[i].validation, batch: options.batch, maxWindows: evalWindows)
            return outcome(party: i, result: result, ledger: ledger, sent: 0, received: 0)
        }
        return ModeOutcome(mode: .centralized, wallSeconds: 0, rounds: options.steps, losses: losses,
                           parties: parties, sharedPeakTotalBytes: ledger.peakTotalBytes)
    }

    /// Each party alone: with only its own experts (local-shard) or with all of them (local-full).
    func runLocal(_ mode: ComparisonMode) throws -> ModeOutcome {
        let ledgers = (0..<partyCount).map { _ in MemoryLedger() }
        let trainers = try (0..<partyCount).map { i in
            try Trainer(config: localConfig(mode, party: i), options: options, corpus: corpora[i], ledger: ledgers[i])
        }
        var losses = [[Double]](repeating: [], count: partyCount)
        for round in 1...options.steps {
            try checkCancelled(mode, round: round)
            for (i, trainer) in trainers.enumerated() {
                losses[i].append(try trainer.trainStep(on: batch(party: i, round: round)).loss)
            }
            onRound?(mode, round, losses.map { $0.last! })
        }
        let parties = try trainers.enumerated().map { i, trainer in
            let result = try trainer.model.evaluate(corpora[i].validation, batch: options.batch, maxWindows: evalWindows)
            return outcome(party: i, result: result, ledger: ledgers[i], sent: 0, received: 0)
        }
        return ModeOutcome(mode: mode, wallSeconds: 0, rounds: options.steps, losses: losses, parties: parties)
    }

    /// The sizes party `party` trains alone with: for local-shard, only the
    /// experts it owns in PC-MoE, and top-k capped at their number.
    func localConfig(_ mode: ComparisonMode, party: Int) -> ModelConfig {
        guard mode == .localShard else { return config }
        var local = config
        local.experts = (0..<config.experts).filter { $0 % partyCount == party }.count
        local.topK = min(config.topK, local.experts)
        return local
    }

    /// Continues the start of a line of the party's held-out text with its model.
    private func sample(_ party: Party) throws -> GeneratedSample {
        var sampling = SamplingOptions()
        sampling.temperature = 0.8
        sampling.topK = 40
        sampling.seed = options.seed
        let prompt = Self.samplePrompt(corpora[party.id].validation, length: 24)
        let continuation = try party.generate(prompt: prompt, maxBytes: 80, sampling: sampling)
        return GeneratedSample(prompt: prompt, continuation: continuation, temperature: sampling.temperature,
                               topK: sampling.topK, seed: sampling.seed)
    }

    /// Returns the first `length` bytes of the first whole line of `text`
    /// that has that many bytes, or the start of `text` when no line has.
    static func samplePrompt(_ text: ArraySlice<UInt8>, length: Int) -> [UInt8] {
        let newline = UInt8(ascii: "\n")
        // The text may start in the middle of a line, so the search starts after the first line end.
        var start = text.firstIndex(of: newline).map { $0 + 1 } ?? text.startIndex
        while start < text.endIndex {
            let end = text[start...].firstIndex(of: newline) ?? text.endIndex
            if end - start >= length { return Array(text[start..<(start + length)]) }
            start = end + 1
        }
        return Array(text.prefix(length))
    }

    private func outcome(party: Int, result: EvaluationResult, ledger: MemoryLedger, sent: Int, received: Int) -> PartyOutcome {
        let peaks = Dictionary(uniqueKeysWithValues: TensorKind.allCases.map { ($0.description, ledger.peakBytes($0)) })
        return PartyOutcome(party: party, corpus: corpora[party].name, validationLoss: result.loss,
                            bitsPerByte: result.bitsPerByte, peakBytes: peaks, peakTotalBytes: ledger.peakTotalBytes,
                            bytesSent: sent, bytesReceived: received)
    }
}
