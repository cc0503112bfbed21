import Foundation

/// Runs PC-MoE and its baselines on the same data: each party's corpus, the
/// same batches per party and round in every mode, the same initial
/// weights, and each party's own validation text at the end.
///
/// Not thread-safe: one mode at a time.
public final class Comparison {
    /// The model sizes.
    public let config: ModelConfig
    /// Rounds (`steps`), batch, rates and seed. PC-MoE and centralized
    /// training take `parties · steps` optimizer steps; the local modes take `steps`.
    public let options: TrainingOptions
    /// One corpus per party.
    public let corpora: [Corpus]
    /// Validation windows scored per party at the end of each mode.
    public let evalWindows: Int
    /// Called after every round with the mode, the round (from 1) and each
    /// party's training loss in it.
    public var onRound: ((ComparisonMode, Int, [Double]) -> Void)?
    /// Asked before every round; returning true stops the mode with ``PCMoEError/cancelled(_:)``.
    public var isCancelled: () -> Bool = { false }

    /// The number of parties: one per corpus.
    public var partyCount: Int { corpora.count }

    /// Checks the sizes, options and corpora.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for bad sizes, options or
    ///   fewer than 2 corpora; ``PCMoEError/invalidData(_:)`` for a corpus
    ///   too short for one sequence in either split.
    public init(config: ModelConfig, options: TrainingOptions, corpora: [Corpus], evalWindows: Int = 64) throws {
        try config.validate()
        try options.validate()
        try config.validateMemory(batch: options.batch)
        guard (2...PartySettings.maxParties).contains(corpora.count) else {
            throw PCMoEError.invalidArgument("a comparison needs 2 to \(PartySettings.maxParties) parties, one corpus each; got \(corpora.count).")
        }
        guard corpora.count <= config.experts else {
            throw PCMoEError.invalidArgument("\(corpora.count) parties share \(config.experts) experts per layer; "
                                                 + "give every party at least one expert (n_experts ≥ parties).")
        }
        guard options.steps <= TrainingOptions.maxSteps / corpora.count else {
            throw PCMoEError.invalidArgument("\(options.steps) rounds of \(corpora.count) parties exceed \(TrainingOptions.maxSteps) "
                                                 + "steps; use at most \(TrainingOptions.maxSteps / corpora.count) rounds.")
        }
        guard evalWindows > 0 else {
            throw PCMoEError.invalidArgument("the validation window count is \(evalWindows); it must be at least 1.")
        }
        for corpus in corpora { try corpus.requireLength(config.sequence + 1) }
        self.config = config
        self.options = options
        self.corpora = corpora
        self.evalWindows = evalWindows
    }

    /// The backbone seed of `party` in the pcmoe-private mode: each party's
    /// own, derived from the run's seed so that the comparison is
    /// reproducible. A real deployment keeps its backbone seed to itself.
    public func backboneSeed(party: Int) -> UInt64 {
        var rng = SplitMix64(seed: options.seed, label: "backbone.\(party)")
        return rng.next()
    }

    /// The batch of `party` in round `round` (from 1), the same in every mode.
    public func batch(party: Int, round: Int) -> [UInt8] {
        BatchSampler(bytes: corpora[party].train, batch: options.batch, window: config.sequence + 1,
                     seed: options.seed).batch(step: round)
    }

    /// Runs one mode from fresh weights and returns its outcome.
    public func run(_ mode: ComparisonMode) throws -> ModeOutcome {
        let start = Date()
        var outcome: ModeOutcome
        switch mode {
        case .pcmoe, .pcmoePrivate, .pcmoeBF16, .pcmoeF16:
            outcome = try runCollaborative(mode, wireType: mode.wireType!)
        case .centralized:
            outcome = try runCentralized()
        case .localShard, .localFull:
            outcome = try runLocal(mode)
        }
        outcome.wallSeconds = Date().timeIntervalSince(start)
        return outcome
    }

    func checkCancelled(_ mode: ComparisonMode, round: Int) throws {
        if isCancelled() {
            throw PCMoEError.cancelled("the \(mode.rawValue) run stopped before round \(round) of \(options.steps).")
        }
    }
}
