import Foundation

/// The experts one party owns in every layer (expert e belongs to party
/// e mod n), serving the forward and backward calls of every party's turn,
/// including its owner's.
///
/// The shard accumulates the expert gradients of one turn at a time and
/// steps every expert it owns once per turn. A request is validated in full
/// before anything changes, so a refused request leaves the shard as it
/// was. Thread-safe: calls are serialised by a lock.
final class ExpertShard {
    let config: ModelConfig
    let owner: Int
    let partyCount: Int
    let weights: ModelWeights
    let gradients: ModelWeights
    let optimizer: AdamW
    private let options: TrainingOptions
    private let ledger: MemoryLedger
    let lock = NSLock()

    /// The turn whose gradients are accumulating; 0 when none is open.
    private(set) var openTurn: UInt64 = 0
    /// The party whose turn is open.
    private(set) var turnOwner = -1
    /// The layers whose forward and backward are done in the open turn.
    private var finishedLayers: Set<ServedKey> = []
    /// The last turn this shard stepped for; 0 before the first step.
    private(set) var lastSteppedTurn: UInt64 = 0
    /// Turns given up because a newer turn started before their step or abort.
    private(set) var abandonedTurns = 0
    private var served: [Int: LocalExperts] = [:]
    /// The row grouping of each kept forward.
    private var servedLayers: [ServedKey: RowGroups] = [:]

    private struct ServedKey: Hashable {
        let requester: Int
        let layer: Int
    }

    /// The shard of `owner` among `partyCount` parties, whose expert weights
    /// and gradients live in `weights` and `gradients` (shared with the
    /// owner's model).
    init(config: ModelConfig, owner: Int, partyCount: Int, weights: ModelWeights, gradients: ModelWeights,
         options: TrainingOptions, ledger: MemoryLedger) {
        self.config = config
        self.owner = owner
        self.partyCount = partyCount
        self.weights = weights
        self.gradients = gradients
        self.options = options
        self.ledger = ledger
        let experts = weights.named.indices.filter { ExpertShard.isExpert(weights.named[$0].name) }
        optimizer = AdamW(parameters: experts.map { weights.named[$0] },
                          gradients: experts.map { gradients.named[$0].tensor }, settings: options.adamW, ledger: ledger)
    }

    /// True for the checkpoint name of an expert matrix.
    static func isExpert(_ name: String) -> Bool { name.contains(".moe.experts.") }

    /// True when this shard holds expert `expert` of every layer.
    func owns(_ expert: Int) -> Bool { expert % partyCount == owner }

    /// The number of experts per layer this shard holds.
    var ownedCount: Int { (0..<config.experts).filter(owns).count }

    /// Runs the experts on the rows of `requester`'s turn `turn`: row i goes
    /// to expert `experts[i]`. Returns expert(row) for each row, in order.
    ///
    /// Rows are grouped by expert (ascending, keeping their order), so each
    /// expert computes exactly the batch it would in one process.
    /// - Throws: ``ErrorReply`` when an expert is not owned here, the layer
    ///   is out of range, the turn is over, or this requester already has
    ///   a forward of this layer waiting in this turn.
    func forward(requester: Int, turn: UInt64, layer: Int, experts: [Int], rows: Tensor,
                 inference: Bool) throws -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        try checkLayer(layer)
        if let bad = experts.first(where: { !(0..<config.experts).contains($0) }) {
            throw ErrorReply(code: .invalidRequest,
                             message: "layer \(layer) has \(config.experts) experts, so expert \(bad) does not exist.",
                             layer: UInt32(layer))
        }
        if let bad = experts.first(where: { !owns($0) }) {
            throw ErrorReply(code: .invalidRequest, message: "party \(owner) does not own expert \(bad) of layer \(layer).",
                             layer: UInt32(layer))
        }
        let groups = RowGroups(experts: experts)
        let batches = groups.batches(of: rows, ledger: ledger, kind: kind(for: requester))
        if inference {
            let outputs = try runner(for: requester).forward(layer: layer, batches: batches, keepForBackward: false)
            return groups.scatter(outputs, rows: rows.rows, columns: rows.columns, ledger: ledger, kind: kind(for: requester))
        }

        let key = ServedKey(requester: requester, layer: layer)
        try openIfNeeded(turn, requester: requester, layer: layer)
        guard servedLayers[key] == nil, !finishedLayers.contains(key) else {
            throw ErrorReply(code: .state,
                             message: "party \(requester) already sent a forward of layer \(layer) in turn \(turn).",
                             layer: UInt32(layer))
        }
        let outputs = try runner(for: requester).forward(layer: layer, batches: batches, keepForBackward: true)
        servedLayers[key] = groups
        return groups.scatter(outputs, rows: rows.rows, columns: rows.columns, ledger: ledger, kind: kind(for: requester))
    }

    /// The row count of the kept forward of `layer` for `requester` in
    /// `turn`, or nil when none waits.
    func keptRows(requester: Int, turn: UInt64, layer: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard turn == openTurn else { return nil }
        return servedLayers[ServedKey(requester: requester, layer: layer)]?.count
    }

    /// Accumulates the expert gradients for the kept forward of `layer`,
    /// given ∂L/∂output for each of its rows in the forward's order, and
    /// returns ∂L/∂row for each row.
    ///
    /// - Throws: ``ErrorReply`` when no forward of this layer waits for this
    ///   requester in `turn`, or the row count differs from the forward's.
    func backward(requester: Int, turn: UInt64, layer: Int, gradients: Tensor) throws -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        try checkLayer(layer)
        let key = ServedKey(requester: requester, layer: layer)
        guard turn == openTurn, let groups = servedLayers[key], let runner = served[requester] else {
            throw ErrorReply(code: .state,
                             message: "no forward of layer \(layer) from party \(requester) waits in turn \(turn).",
                             layer: UInt32(layer))
        }
        guard gradients.rows == groups.count, gradients.columns == config.dModel else {
            throw ErrorReply(code: .invalidRequest,
                             message: "the gradients of layer \(layer) have shape \(gradients.shape); the forward had \(groups.count) rows of \(config.dModel).",
                             layer: UInt32(layer))
        }
        let batches = groups.batches(of: gradients, ledger: ledger, kind: kind(for: requester))
        let inputGradients = try runner.backward(layer: layer, gradients: batches)
        servedLayers[key] = nil
        finishedLayers.insert(key)
        return groups.scatter(inputGradients, rows: groups.count, columns: config.dModel, ledger: ledger,
                              kind: kind(for: requester))
    }

    /// Ends turn `turn`: clips the shard's gradient by its own norm, steps
    /// every owned expert once at the rate of `globalStep`, and zeroes the
    /// gradients. Returns the norm before clipping.
    ///
    /// - Throws: ``ErrorReply`` when the turn is not the open one (or a new
    ///   one), `globalStep` is not the next step, or the gradient is not finite.
    func step(requester: Int, turn: UInt64, globalStep: UInt64) throws -> Double {
        lock.lock()
        defer { lock.unlock() }
        guard turn > lastSteppedTurn, turn >= openTurn else {
            throw ErrorReply(code: .state, message: "turn \(turn) cannot be stepped: the open turn is \(openTurn) "
                                 + "and the last stepped turn is \(lastSteppedTurn).")
        }
        guard turn != openTurn || requester == turnOwner else {
            throw ErrorReply(code: .state, message: "turn \(turn) belongs to party \(turnOwner); party \(requester) "
                                 + "cannot step it.")
        }
        guard globalStep == UInt64(optimizer.stepCount + 1) else {
            throw ErrorReply(code: .state, message: "global step \(globalStep) is not the next step of party \(owner)'s "
                                 + "experts, which have taken \(optimizer.stepCount).")
        }
        if openTurn != 0 && openTurn != turn {
            // The open turn's requester moved on without stepping or aborting it.
            abandonedTurns += 1
            closeTurn()
        }
        let norm = globalNorm(optimizer.gradients)
        guard norm.isFinite else {
            throw ErrorReply(code: .notFinite, message: "the expert gradient of party \(owner) has norm \(norm) in turn \(turn).")
        }
        clipGradients(optimizer.gradients, maxNorm: options.clipNorm, norm: norm)
        optimizer.step(rate: options.schedule.rate(step: Int(globalStep)))
        closeTurn()
        lastSteppedTurn = turn
        return norm
    }

    /// Drops everything kept for `turn`: waiting forwards and accumulated
    /// gradients. Aborting a turn that is not open, or that another party
    /// opened, changes nothing.
    func abort(requester: Int, turn: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if turn == openTurn && requester == turnOwner { closeTurn() }
    }

    /// Drops any open turn and sets the last stepped turn, after the shard's
    /// weights and moments were loaded from a checkpoint.
    func restore(lastSteppedTurn turn: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        closeTurn()
        lastSteppedTurn = turn
    }

    /// Checks that `layer` exists.
    /// - Throws: ``ErrorReply`` with code ``WireErrorCode/invalidRequest`` naming the layer.
    func checkLayer(_ layer: Int) throws {
        guard (0..<config.layers).contains(layer) else {
            throw ErrorReply(code: .invalidRequest,
                             message: "layer \(layer) does not exist; the model has \(config.layers) layers.",
                             layer: UInt32(clamping: max(layer, 0)))
        }
    }

    /// Makes `turn` the open turn of `requester`, giving up an older open turn.
    private func openIfNeeded(_ turn: UInt64, requester: Int, layer: Int) throws {
        guard turn > 0 else {
            throw ErrorReply(code: .state, message: "training turns are numbered from 1; turn 0 is only for inference.",
                             layer: UInt32(layer))
        }
        guard turn > lastSteppedTurn, turn >= openTurn else {
            throw ErrorReply(code: .state, message: "turn \(turn) is over: the open turn is \(openTurn) and the last "
                                 + "stepped turn is \(lastSteppedTurn).", layer: UInt32(layer))
        }
        if turn == openTurn && requester != turnOwner {
            throw ErrorReply(code: .state, message: "turn \(turn) belongs to party \(turnOwner), not to party \(requester).",
                             layer: UInt32(layer))
        }
        if openTurn != 0 && turn != openTurn {
            abandonedTurns += 1
            closeTurn()
        }
        openTurn = turn
        turnOwner = requester
    }

    private func closeTurn() {
        for runner in served.values { runner.discardPending() }
        servedLayers.removeAll()
        finishedLayers.removeAll()
        for g in optimizer.gradients { g.zero() }
        openTurn = 0
        turnOwner = -1
    }

    private func kind(for requester: Int) -> TensorKind {
        requester == owner ? .activations : .servedActivations
    }

    private func runner(for requester: Int) -> LocalExperts {
        if let runner = served[requester] { return runner }
        let runner = LocalExperts(weights: weights, gradients: gradients, ledger: ledger, kind: kind(for: requester))
        served[requester] = runner
        return runner
    }
}
