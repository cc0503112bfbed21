import Foundation

/// The session view of a party in a coordinated session: its own
/// phase and join nonce, each peer's join nonce, the last turn handed off,
/// and the peers that finished. ``SessionRunner`` drives it; the party's
/// serving code consults it for every request.
///
/// Thread-safe: the serving thread and the runner's thread share it.
final class SessionState: @unchecked Sendable {
    private let condition = NSCondition()
    private let partyID: Int
    private let partyCount: Int
    private let steps: UInt64
    private let checkpointEvery: UInt32
    private var phase = SessionPhase.joining
    private var nonce: UInt64 = 0
    private var turns: UInt64 = 0
    /// Each peer's join nonce, as its Welcome reported it.
    private var peerNonces: [Int: UInt64] = [:]
    /// The join nonce of each peer's latest Hello.
    private var helloNonces: [Int: UInt64] = [:]
    private var handedOff: UInt64 = 0
    private var finishedPeers: Set<Int> = []
    private var faultReason: String?
    private var mismatch: String?

    /// Called, on the serving thread, with every turn handed off; may throw
    /// to refuse it (when the checkpoint it ends cannot be written).
    var onHandoff: (UInt64) throws -> Void = { _ in }
    /// Called once when a running party learns that a peer joins again.
    var onFault: (String) -> Void = { _ in }

    /// Creates the state of party `partyID` of `partyCount` in a run of
    /// `steps` turns with a checkpoint every `checkpointEvery` rounds.
    init(partyID: Int, partyCount: Int, steps: Int, checkpointEvery: Int) {
        self.partyID = partyID
        self.partyCount = partyCount
        self.steps = UInt64(steps)
        self.checkpointEvery = UInt32(checkpointEvery)
    }

    /// Builds the Hello this party sends in the join of `nonce`.
    func hello(from party: Party, nonce: UInt64, turnsSaved: UInt64) -> Hello {
        Hello(partyCount: UInt32(party.settings.partyCount), config: party.config, options: party.options,
              joinNonce: nonce, turnsSaved: turnsSaved, checkpointEvery: checkpointEvery)
    }

    /// Checks the session settings of a peer's Hello, past those every party compares.
    /// - Throws: ``ErrorReply`` with code ``WireErrorCode/mismatch`` naming the setting.
    func checkHello(_ hello: Hello, from peer: Int) throws {
        guard hello.checkpointEvery == checkpointEvery else {
            throw ErrorReply(code: .mismatch, message: "checkpoint_every differs: party \(peer) has \(hello.checkpointEvery), "
                                 + "party \(partyID) has \(checkpointEvery).")
        }
    }

    /// Returns the party that takes turn `turn` (from 1).
    func taker(of turn: UInt64) -> Int {
        Int((turn - 1) % UInt64(partyCount))
    }

    /// The outcome of a wait for the other parties.
    enum WaitOutcome: Equatable {
        case done
        case fault(String)
        case timedOut
    }

    // MARK: Runner side

    /// Starts a join: a new nonce, `turnsSaved` as the newest checkpoint,
    /// no peer known, no fault.
    func enterJoining(turnsSaved: UInt64) -> UInt64 {
        condition.withLock {
            phase = .joining
            nonce = UInt64.random(in: 1...UInt64.max)
            turns = turnsSaved
            peerNonces = [:]
            handedOff = 0
            finishedPeers = []
            faultReason = nil
            mismatch = nil
            return nonce
        }
    }

    /// Records that the party loaded the checkpoint of `loadedTurns`.
    func enterReady(loadedTurns: UInt64) {
        condition.withLock {
            phase = .ready
            turns = loadedTurns
            handedOff = loadedTurns
        }
    }

    /// Records that every party loaded the same checkpoint.
    func enterRunning() {
        condition.withLock { phase = .running }
    }

    /// Records the nonces the peers' Welcomes reported.
    func learn(_ welcomes: [Int: Welcome]) {
        condition.withLock {
            for (peer, welcome) in welcomes { peerNonces[peer] = welcome.joinNonce }
        }
    }

    /// The party's phase, nonce and turns, for a Hello or a Welcome.
    var current: (phase: SessionPhase, nonce: UInt64, turns: UInt64) {
        condition.withLock { (phase, nonce, turns) }
    }

    /// The reason the running session broke, or nil.
    var fault: String? { condition.withLock { faultReason } }

    /// The reason a peer's Hello was rejected during this join, or nil.
    var refusedHello: String? { condition.withLock { mismatch } }

    /// Records that a peer's Hello was refused for a setting that differs,
    /// so this party's join fails with the reason too.
    func recordRefusedHello(_ reason: String, from peer: Int) {
        condition.withLock { mismatch = mismatch ?? "party \(peer) sent a Hello that differs: \(reason)" }
    }

    /// Marks the running session as broken and wakes the runner.
    func raiseFault(_ reason: String) {
        let first = condition.withLock { () -> Bool in
            defer { condition.broadcast() }
            guard faultReason == nil else { return false }
            faultReason = reason
            return true
        }
        if first { onFault(reason) }
    }

    /// Waits until turn `turn` is handed off, a fault is raised or `timeout` seconds pass.
    func waitForHandoff(of turn: UInt64, timeout: Double) -> WaitOutcome {
        wait(timeout: timeout) { handedOff >= turn }
    }

    /// Waits until every one of `peers` sent Finished, a fault is raised or `timeout` seconds pass.
    func waitForFinished(peers: [Int], timeout: Double) -> WaitOutcome {
        wait(timeout: timeout) { Set(peers).isSubset(of: finishedPeers) }
    }

    private func wait(timeout: Double, until done: () -> Bool) -> WaitOutcome {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let faultReason { return .fault(faultReason) }
            if done() { return .done }
            if !condition.wait(until: deadline) { return done() ? .done : .timedOut }
        }
    }

    /// Records that this party itself handed off `turn`.
    func handedOff(_ turn: UInt64) {
        condition.withLock {
            handedOff = max(handedOff, turn)
            condition.broadcast()
        }
    }

    // MARK: Serving side

    /// Builds the Welcome for a peer's Hello. A running party that sees a new
    /// nonce from a peer takes it as a rejoin and raises a fault.
    func welcome(_ hello: Hello, from peer: Int, stepsTaken: UInt64) -> Welcome {
        let (reply, fault) = condition.withLock { () -> (Welcome, String?) in
            helloNonces[peer] = hello.joinNonce
            let known = peerNonces[peer]
            let rejoined = phase == .running && known != nil && known != hello.joinNonce
            // Before running, a Hello carries the peer's current nonce, which
            // replaces the one an earlier Welcome reported.
            if phase != .running { peerNonces[peer] = hello.joinNonce }
            let reply = Welcome(stepsTaken: stepsTaken, phase: phase, joinNonce: nonce, turns: turns)
            return (reply, rejoined ? "party \(peer) joins the session again" : nil)
        }
        if let fault { raiseFault(fault) }
        return reply
    }

    /// Throws unless the party serves this request from `peer` now: it
    /// loaded the checkpoint every party agreed on, and the peer's latest
    /// Hello carried the nonce its Welcome reported, so nothing left from the
    /// peer's earlier join can reach the shard. A training request must
    /// also belong to the turn in progress, from the party whose turn it is;
    /// an inference forward (`turn` nil) may come at any time.
    func admitRequest(from peer: Int, turn: UInt64?) throws {
        try condition.withLock {
            guard phase == .ready || phase == .running else {
                throw ErrorReply(code: .state, message: "party \(partyID) is joining its session and serves no request "
                                     + "until every party has loaded the same checkpoint.")
            }
            guard let known = peerNonces[peer], helloNonces[peer] == known else {
                throw ErrorReply(code: .state, message: "party \(partyID) serves no request of party \(peer) before "
                                     + "party \(peer) has joined the session.")
            }
            guard let turn else { return }
            guard turn == handedOff + 1, turn <= steps, taker(of: turn) == peer else {
                throw ErrorReply(code: .state, message: "party \(partyID) expects turn \(handedOff + 1) from party "
                                     + "\(taker(of: handedOff + 1)); a request of turn \(turn) from party \(peer) is out of order.")
            }
        }
    }

    /// Applies a Handoff from `peer`: calls ``onHandoff`` for each new turn,
    /// then records it.
    /// - Throws: ``ErrorReply`` for a stale nonce, a turn that skips one,
    ///   or a checkpoint that cannot be written.
    func receiveHandoff(_ notice: SessionNotice, from peer: Int) throws {
        let last = try condition.withLock { () -> UInt64 in
            try checkNotice(notice, from: peer, what: "Handoff")
            return handedOff
        }
        if notice.turn <= last { return }
        guard notice.turn == last + 1, notice.turn <= steps, taker(of: notice.turn) == peer else {
            throw ErrorReply(code: .state, message: "party \(peer) handed off turn \(notice.turn), but party \(partyID) "
                                 + "expects the hand-off of turn \(last + 1) from party \(taker(of: last + 1)).")
        }
        do {
            try onHandoff(notice.turn)
        } catch {
            throw ErrorReply(code: .internalError, message: "party \(partyID) could not save its checkpoint after turn "
                                 + "\(notice.turn): \(error)")
        }
        handedOff(notice.turn)
    }

    /// Records a Finished from `peer`.
    /// - Throws: ``ErrorReply`` for a stale nonce.
    func receiveFinished(_ notice: SessionNotice, from peer: Int) throws {
        try condition.withLock {
            try checkNotice(notice, from: peer, what: "Finished")
            guard notice.turn == steps else {
                throw ErrorReply(code: .state, message: "party \(peer) finished after \(notice.turn) turns; the run has \(steps).")
            }
            finishedPeers.insert(peer)
            condition.broadcast()
        }
    }

    /// Called with the lock held.
    private func checkNotice(_ notice: SessionNotice, from peer: Int, what: String) throws {
        guard phase == .ready || phase == .running, peerNonces[peer] == notice.joinNonce else {
            throw ErrorReply(code: .state, message: "party \(partyID) ignores the \(what) of party \(peer): it belongs "
                                 + "to another join of the session.")
        }
    }
}
