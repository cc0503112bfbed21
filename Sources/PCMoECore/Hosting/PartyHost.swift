import Foundation

/// A progress report of a long call, sent to the host while the call runs.
public struct HostProgress: Equatable, Sendable {
    /// The kind of work.
    public enum Stage: Int, Sendable {
        /// A training turn; reported once, when it completes.
        case trainTurn = 1
        /// An evaluation; reported after each batch of windows.
        case evaluate = 2
    }

    /// The kind of work.
    public let stage: Stage
    /// Units done so far: turns, or windows scored.
    public let done: Int
    /// Units in all.
    public let total: Int
}

/// A snapshot of a hosted party's counters.
public struct HostMetrics: Equatable, Sendable {
    /// Training turns this party has taken.
    public var turns = 0
    /// Optimizer steps of this party's experts: one per turn of any party.
    public var expertSteps = 0
    /// The last turn's measurements, nil before the first turn.
    public var lastTurn: TurnMetrics?
    /// Bytes of envelopes sent and received, and incoming messages refused or dropped.
    public var bytesSent = 0, bytesReceived = 0, messagesRejected = 0
    /// Envelopes sent (a retry counts again) and received.
    public var messagesSent = 0, messagesReceived = 0
    /// The peak tensor bytes of each kind, by ``TensorKind`` raw value.
    public var peakBytes: [Int] = []
    /// The peak of all kinds together.
    public var peakTotalBytes = 0
    /// Bytes of the training split and of the validation split of the loaded data.
    public var trainBytes = 0, validationBytes = 0
}

/// A party together with what a host program needs around it: its training
/// data with a batch sampler, turn counting, checkpoints, progress reports
/// and metrics. The C ABI wraps one of these per party handle.
///
/// Thread-safety: ``party``'s ``Party/handle(_:)`` and ``cancel()`` may be
/// called from any thread at any time; the other methods run one at a time.
public final class PartyHost: @unchecked Sendable {
    /// The party.
    public let party: Party
    /// Receives progress of turns and evaluations, on the calling thread.
    public var progress: (@Sendable (HostProgress) -> Void)? {
        get { lock.withLock { progressSink } }
        set { lock.withLock { progressSink = newValue } }
    }

    private let lock = NSLock()
    private var progressSink: (@Sendable (HostProgress) -> Void)?
    private var corpus: Corpus?
    private var turns = 0
    private var lastTurn: TurnMetrics?
    private var joined = false

    /// Creates the party and loads `config.data` when it names any files.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for bad settings and the
    ///   errors of ``loadData(paths:)``.
    public init(config: PartyConfig) throws {
        try config.validate()
        party = try Party(settings: config.settings, config: config.model, options: config.training)
        if !config.data.isEmpty { try loadData(paths: config.data) }
    }

    /// Loads training text from files or folders, replacing any loaded before.
    /// Its last tenth is held out for ``evaluate(maxWindows:)``.
    /// - Throws: the errors of ``Corpus/load(paths:warn:)``, and
    ///   ``PCMoEError/invalidData(_:)`` when a split is shorter than one sequence.
    public func loadData(paths: [String]) throws {
        let corpus = try Corpus.load(paths: paths, warn: { Log.write(.warning, $0) })
        try use(corpus)
    }

    /// Uses `bytes` as training text, replacing any loaded before; `name` labels messages.
    /// - Throws: ``PCMoEError/invalidData(_:)`` when a split is shorter than
    ///   one sequence, or the text is larger than ``Corpus/maxBytes``.
    public func loadData(bytes: [UInt8], name: String) throws {
        guard bytes.count <= Corpus.maxBytes else {
            throw PCMoEError.invalidData("the training text \(name) has \(bytes.count) bytes; the limit is \(Corpus.maxBytes).")
        }
        try use(Corpus(name: name, bytes: bytes))
    }

    private func use(_ corpus: Corpus) throws {
        let window = party.config.sequence + 1
        try corpus.requireLength(window)
        lock.withLock { self.corpus = corpus }
        Log.write(.info, "party \(party.id) loaded \(corpus.bytes.count) bytes of training text (\(corpus.name)).")
    }

    /// Greets every other party and checks that they run the same session;
    /// see ``Party/join()``. Turns and evaluations need it first when the
    /// session has more than one party.
    public func join() throws {
        try party.join()
        lock.withLock { joined = true }
    }

    /// Records a join that a ``SessionRunner`` completed.
    func markJoined() {
        lock.withLock { joined = true }
    }

    /// Throws unless ``join()`` succeeded or the party is alone in its session.
    private func requireJoined() throws {
        guard party.settings.partyCount > 1, !lock.withLock({ joined }) else { return }
        throw PCMoEError.invalidArgument("party \(party.id) has not joined its session; join before its first turn, "
                                             + "evaluation, generation or export, so that a mismatched peer is found first.")
    }

    /// Takes training turn `turn` (the global turn number, from 1) on the
    /// next batch of this party's data.
    ///
    /// The batch of the party's n-th turn depends only on the data, the run
    /// seed, the party id and n, so a run resumed from a checkpoint draws the
    /// batches an uninterrupted one would.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` before any data is
    ///   loaded or before ``join()``, and the errors of ``Party/trainTurn(tokens:turn:)``.
    public func trainTurn(_ turn: UInt64) throws -> TurnMetrics {
        guard let (sampler, n) = lock.withLock({ corpus.map { (sampler(for: $0), turns + 1) } }) else {
            throw PCMoEError.invalidArgument("party \(party.id) has no training data; load some before its first turn.")
        }
        try requireJoined()
        let metrics = try party.trainTurn(tokens: sampler.batch(step: n), turn: turn)
        let sink = lock.withLock { () -> (@Sendable (HostProgress) -> Void)? in
            turns = n
            lastTurn = metrics
            return progressSink
        }
        sink?(HostProgress(stage: .trainTurn, done: 1, total: 1))
        return metrics
    }

    private func sampler(for corpus: Corpus) -> BatchSampler {
        let seed = party.options.seed &+ UInt64(party.id + 1) &* 0x9E37_79B9_7F4A_7C15
        return BatchSampler(bytes: corpus.train, batch: party.options.batch, window: party.config.sequence + 1, seed: seed)
    }

    /// Scores the held-out tenth of the loaded data, at most `maxWindows`
    /// windows of T + 1 bytes when given.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` before any data is
    ///   loaded, and the errors of ``evaluate(bytes:maxWindows:)``.
    public func evaluate(maxWindows: Int? = nil) throws -> EvaluationResult {
        guard let corpus = lock.withLock({ corpus }) else {
            throw PCMoEError.invalidArgument("party \(party.id) has no data to evaluate on; load some first.")
        }
        return try evaluate(bytes: corpus.validation, maxWindows: maxWindows)
    }

    /// Scores `bytes` with this party's model, reporting progress per batch.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` before ``join()``, and
    ///   the errors of ``Party/evaluate(_:maxWindows:isCancelled:progress:)``.
    public func evaluate(bytes: ArraySlice<UInt8>, maxWindows: Int? = nil) throws -> EvaluationResult {
        try requireJoined()
        if let maxWindows, maxWindows <= 0 {
            throw PCMoEError.invalidArgument("the window limit is \(maxWindows); give a positive number, or none for all.")
        }
        let sink = progress
        return try party.evaluate(bytes, maxWindows: maxWindows, progress: { done, total in
            sink?(HostProgress(stage: .evaluate, done: done, total: total))
        })
    }

    /// Continues `prompt` with this party's model; see
    /// ``Party/generate(prompt:maxBytes:sampling:emit:)``.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` before ``join()``, and
    ///   the errors of ``Party/generate(prompt:maxBytes:sampling:emit:)``.
    public func generate(prompt: [UInt8], maxBytes: Int, sampling: SamplingOptions,
                         emit: (UInt8) -> Bool = { _ in true }) throws -> [UInt8] {
        try requireJoined()
        return try party.generate(prompt: prompt, maxBytes: maxBytes, sampling: sampling, emit: emit)
    }

    /// Writes the whole model to `path`; see ``Party/exportModel(to:)``.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` before ``join()``, and
    ///   the errors of ``Party/exportModel(to:)``.
    public func exportModel(to path: String) throws {
        try requireJoined()
        try party.exportModel(to: path)
    }

    /// Makes the running turn or evaluation stop with ``PCMoEError/cancelled(_:)``.
    /// Thread-safe.
    public func cancel() {
        party.cancel()
    }

    /// Writes a party checkpoint with the turn count and the fingerprint of
    /// the loaded data. See ``PartyCheckpoint/save(_:to:extra:)``.
    public func save(to path: String) throws {
        let (taken, loaded): (Int, Corpus?) = lock.withLock { (turns, corpus) }
        var extra = ["turns_taken": String(taken)]
        if let corpus = loaded {
            extra["data_bytes"] = String(corpus.train.count)
            extra["data_fnv1a64"] = String(fnv1a64(corpus.train))
        }
        try PartyCheckpoint.save(party, to: path, extra: extra)
        Log.write(.info, "party \(party.id) saved its checkpoint to \(path) after \(taken) turns.")
    }

    /// Loads a party checkpoint and the turn count it recorded. The party
    /// must ``join()`` again before its next turn. Logs a warning when the
    /// loaded data differs from the data it was saved with.
    /// See ``PartyCheckpoint/load(into:from:)``.
    public func load(from path: String) throws {
        let meta = try PartyCheckpoint.load(into: party, from: path) { meta in
            let turns = meta["turns_taken"].flatMap { Int($0) } ?? -1
            let backboneSteps = meta["backbone_steps"].flatMap { Int($0) } ?? 0
            guard (0...backboneSteps).contains(turns) else {
                throw PCMoEError.invalidCheckpoint("\(path) records \(meta["turns_taken"] ?? "no") turns taken for "
                                                       + "\(backboneSteps) backbone steps; the file is damaged or edited.")
            }
        }
        let recorded = meta["turns_taken"].flatMap { Int($0) } ?? 0
        // The other parties may hold checkpoints of another turn, so the
        // party joins again before its next turn, which compares step counts.
        let corpus: Corpus? = lock.withLock {
            turns = max(recorded, 0)
            lastTurn = nil
            joined = false
            return self.corpus
        }
        Log.write(.info, "party \(party.id) loaded its checkpoint \(path), taken after \(max(recorded, 0)) turns.")
        if let corpus, meta["data_fnv1a64"] != String(fnv1a64(corpus.train)) {
            Log.write(.warning, "party \(party.id) loaded \(path), which was trained on other data than the data loaded now.")
        }
    }

    /// The current counters.
    public var metrics: HostMetrics {
        var m = HostMetrics()
        lock.withLock {
            m.turns = turns
            m.lastTurn = lastTurn
            m.trainBytes = corpus?.train.count ?? 0
            m.validationBytes = corpus?.validation.count ?? 0
        }
        m.expertSteps = party.expertSteps
        (m.bytesSent, m.bytesReceived, m.messagesRejected) = party.traffic
        (m.messagesSent, m.messagesReceived) = party.messageCounts
        m.peakBytes = TensorKind.allCases.map { party.ledger.peakBytes($0) }
        m.peakTotalBytes = party.ledger.peakTotalBytes
        return m
    }
}
