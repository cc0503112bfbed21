import Foundation

/// One participant of a PC-MoE session: its backbone (embedding, attention,
/// norms, routers, LM head), its expert shard, their optimizers, and the
/// requests it has in flight.
///
/// A party does no I/O. Its turn sends requests through ``transport``, and
/// whatever arrives for it is passed to ``handle(_:)``, which returns the
/// reply to send back. Thread-safe: ``handle(_:)`` may be called from any
/// thread while a turn runs; turns and evaluations run one at a time.
public final class Party: @unchecked Sendable {
    /// Identity, session and wire settings.
    public let settings: PartySettings
    /// The model sizes, shared by every party.
    public let config: ModelConfig
    /// The run settings, shared by every party; `steps` counts global steps.
    public let options: TrainingOptions
    /// Counts this party's tensor bytes by kind.
    public let ledger: MemoryLedger
    /// The backbone plus this party's own experts.
    public let model: MoEModel
    /// AdamW over the backbone tensors.
    public let backboneOptimizer: AdamW
    /// Carries this party's requests; set before the first turn.
    public var transport: Transport? {
        get { stateLock.withLock { currentTransport } }
        set { stateLock.withLock { currentTransport = newValue } }
    }

    /// The coordination state while a ``SessionRunner`` runs this party.
    var session: SessionState? {
        get { stateLock.withLock { currentSession } }
        set { stateLock.withLock { currentSession = newValue } }
    }

    /// The parties this one sends its experts to when they ask to export
    /// the whole model. Empty, the default, refuses every export request.
    /// A party named here gets a copy of this party's experts, which were
    /// trained on every party's data, to keep and use with no peer.
    public var exportAllowed: Set<Int> {
        stateLock.withLock { allowedExports }
    }

    let shard: ExpertShard
    let rowTaps = RowTapSinks()
    /// The noise on rows sent to other owners, when the settings ask for it.
    let rowNoise: RowNoiseSource?
    let calls = PendingCalls()
    let remote: RemoteExperts
    let stateLock = NSLock()
    let serveLock = NSLock()
    let turnLock = NSLock()
    lazy var replies = ReplyCache(maxBytes: (4 * config.layers + 4) * maxFrameBytes)
    private var currentTransport: Transport?
    private var currentSession: SessionState?
    var allowedExports: Set<Int> = []
    /// The thread that has taken ``turnLock``, so that a call from inside a
    /// callback of a running turn, evaluation or generation fails instead
    /// of waiting for itself.
    private var turnHolder: pthread_t?
    private var sent = 0, received = 0, rejected = 0
    private var messagesSent = 0, messagesReceived = 0
    private var lastRejection = ""

    /// This party's id.
    public var id: Int { settings.id }

    /// A party whose experts are initialised from the shared `options.seed`
    /// and whose backbone is initialised from `settings.backboneSeed`.
    ///
    /// Each tensor draws from its own stream named after it, so an expert
    /// starts with the same values at its owner as in a one-process model
    /// with the same seed.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for bad settings, sizes or options.
    public init(settings: PartySettings, config: ModelConfig, options: TrainingOptions,
                ledger: MemoryLedger = MemoryLedger()) throws {
        try settings.validate()
        try config.validate()
        try options.validate()
        try config.validateMemory(batch: options.batch)
        try settings.validateOwnExpertLayers(for: config)
        self.settings = settings
        self.config = config
        self.options = options
        self.ledger = ledger
        let (id, n) = (settings.id, settings.partyCount)
        let model = try MoEModel(config: config, seed: options.seed, ledger: ledger, owns: { $0 % n == id })
        let backboneSeed = settings.backboneSeed ?? UInt64.random(in: 0...UInt64.max)
        model.weights.initialize(seed: backboneSeed, only: { !ExpertShard.isExpert($0) })
        let backbone = model.weights.named.indices.filter { !ExpertShard.isExpert(model.weights.named[$0].name) }
        backboneOptimizer = AdamW(parameters: backbone.map { model.weights.named[$0] },
                                  gradients: backbone.map { model.gradients.named[$0].tensor },
                                  settings: options.adamW, ledger: ledger)
        self.model = model
        shard = ExpertShard(config: config, owner: id, partyCount: n, weights: model.weights,
                            gradients: model.gradients, options: options, ledger: ledger)
        rowNoise = settings.rowNoise.map(RowNoiseSource.init)
        remote = RemoteExperts()
        remote.party = self
        model.experts = remote
    }

    /// The most rows one expert forward request may carry: every position
    /// of a batch routed to min(k, owned experts) of the receiver's experts.
    public var maxRequestRows: Int {
        options.batch * config.sequence * min(config.topK, max(shard.ownedCount, 1))
    }

    /// The largest frame this party accepts, in bytes: a request or reply of
    /// ``maxRequestRows`` rows of f32, with room for the envelope.
    public var maxFrameBytes: Int {
        Party.maxFrameBytes(config: config, options: options)
    }

    /// ``maxFrameBytes`` of a party with these sizes and run settings.
    public static func maxFrameBytes(config: ModelConfig, options: TrainingOptions) -> Int {
        options.batch * config.sequence * config.topK * (4 * config.dModel + 5) + 4096
    }

    /// Optimizer steps this party's experts have taken.
    public var expertSteps: Int { shard.lock.withLock { shard.optimizer.stepCount } }

    /// Bytes of envelopes this party has sent and received, and the number
    /// of incoming messages it refused or dropped.
    public var traffic: (sent: Int, received: Int, rejected: Int) {
        stateLock.withLock { (sent, received, rejected) }
    }

    /// Envelopes this party has sent (a retry counts again) and received.
    public var messageCounts: (sent: Int, received: Int) {
        stateLock.withLock { (messagesSent, messagesReceived) }
    }

    /// Why the last incoming message was refused or dropped, or "".
    public var lastRejectionReason: String { stateLock.withLock { lastRejection } }

    // The counters saturate: a host may claim any frame size, even a
    // refused one, and a counter must not overflow.
    func countSent(_ bytes: Int) {
        stateLock.withLock {
            sent = sent.addingSaturated(bytes)
            messagesSent += 1
        }
    }

    func countReceived(_ bytes: Int) {
        stateLock.withLock {
            received = received.addingSaturated(bytes)
            messagesReceived += 1
        }
    }

    func reject(_ reason: String, level: LogLevel = .warning) {
        Log.write(level, "party \(id) rejected or dropped a message: \(reason)")
        stateLock.withLock {
            rejected += 1
            lastRejection = reason
        }
    }

    /// Takes the lock of turns, evaluations, generations and exports.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when this thread has
    ///   already taken it, because a callback of the running call called the party again.
    func lockTurn() throws {
        let mine = stateLock.withLock { turnHolder.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
        guard !mine else {
            throw PCMoEError.invalidArgument("party \(id) is running a turn, evaluation, generation or export on this "
                                                 + "thread; a callback of that call cannot start another one.")
        }
        turnLock.lock()
        stateLock.withLock { turnHolder = pthread_self() }
    }

    /// Releases the lock ``lockTurn()`` took.
    func unlockTurn() {
        stateLock.withLock { turnHolder = nil }
        turnLock.unlock()
    }
}

extension Int {
    /// Returns the sum, or Int.max when it would overflow.
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? Int.max : sum
    }
}
