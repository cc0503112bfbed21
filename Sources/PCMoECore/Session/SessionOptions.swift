/// How a ``SessionRunner`` coordinates its party with the others.
public struct SessionOptions: Equatable, Sendable {
    /// The folder of this party's session checkpoints; created when missing.
    /// Checkpoints found there at start make the party resume from them.
    public var checkpointFolder: String
    /// Rounds (one turn of every party) between checkpoints, from 1. The
    /// last turn of the run is always followed by one.
    public var checkpointEvery = 1
    /// Seconds to wait for every party to join, or to join again after a fault.
    public var joinTimeout = 600.0
    /// Seconds to wait for another party's turn, or for the others to finish,
    /// before the session counts as broken and every party joins again.
    public var waitTimeout = 600.0
    /// Seconds each Hello of a join waits for its Welcome before the next try.
    public var helloTimeout = 1.0
    /// Times the party may join again after a fault before the run fails.
    public var maxRejoins = 20
    /// At most this many validation windows in the final evaluation; nil scores them all.
    public var evaluationWindows: Int?

    /// Options with the defaults above and checkpoints in `checkpointFolder`.
    public init(checkpointFolder: String) {
        self.checkpointFolder = checkpointFolder
    }

    /// Checks the values.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        guard !checkpointFolder.isEmpty else {
            throw PCMoEError.invalidArgument("the checkpoint folder is empty; give the folder for this party's checkpoints.")
        }
        guard (1...1_000_000).contains(checkpointEvery) else {
            throw PCMoEError.invalidArgument("the checkpoint interval is \(checkpointEvery) rounds; give 1 to 1000000.")
        }
        for (name, value) in [("join timeout", joinTimeout), ("wait timeout", waitTimeout), ("Hello timeout", helloTimeout)] {
            guard value.isFinite, value > 0, value <= PartySettings.maxCallTimeout else {
                throw PCMoEError.invalidArgument("the \(name) is \(value) s; it must be above 0 and at most one week.")
            }
        }
        guard maxRejoins >= 0 else {
            throw PCMoEError.invalidArgument("the rejoin limit is \(maxRejoins); give 0 or more.")
        }
        if let evaluationWindows, evaluationWindows <= 0 {
            throw PCMoEError.invalidArgument("the evaluation window limit is \(evaluationWindows); give a positive number.")
        }
    }
}

/// What a ``SessionRunner`` reports while it runs, on its own thread or,
/// for ``saved(turns:)`` after another party's turn, on the transport's.
public enum SessionEvent: Sendable {
    /// Every party loaded the checkpoint taken after `turns` turns; `resumed`
    /// is false for the first join of a fresh run.
    case joined(turns: UInt64, resumed: Bool)
    /// This party finished one of its turns.
    case turn(TurnMetrics)
    /// This party saved its checkpoint after `turns` turns.
    case saved(turns: UInt64)
    /// The session broke; every party joins again.
    case fault(String)
    /// This party's final evaluation on its held-out text.
    case evaluated(EvaluationResult)
}

/// The outcome of a completed session for one party.
public struct SessionSummary: Sendable {
    /// The final evaluation on the party's held-out text.
    public let evaluation: EvaluationResult
    /// The party's counters at the end.
    public let metrics: HostMetrics
    /// How many times the party joined again after a fault.
    public let rejoins: Int
    /// Seconds from the end of each join to the end of the last turn or the
    /// break, summed over the joins: the time the session spent training.
    public let trainingSeconds: Double
}
