import Foundation

/// What a party of a coordinated session knows about the session: its own
/// phase and join nonce, each peer's join nonce, the last turn handed off,
/// and the peers that finished. ``SessionRunner`` drives it; the party's
/// serving code consults it for every request.
///
/// Thread-safe: the serving thread and the runner's thread share it.
final class SessionState: @unchecked Sendable {
    private let condition = NSCondition()
    private let partyID: Int
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

    /// Called, on the serving thread, with every turn handed off; may throw
    /// to refuse it (when the checkpoint it ends cannot be written).
    var onHandoff: (UInt64) throws -> Void = { _ in }
    /// Called once when a running party learns that a peer joins again.
    var onFault: (String) -> Void = { _ in }

    init(partyID: Int) {
        self.partyID = partyID
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

    /// Why the running session broke, or nil.
    var fault: String? { condition.withLock { faultReason } }

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

    /// Answers a Hello. A running party that sees a new nonce from a peer
    /// learns that the peer joins again, and raises a fault.
    func welcome(_ hello: Hello, from peer: Int, stepsTaken: UInt64) -> Welcome {
        let (reply, fault) = condition.withLock { () -> (Welcome, String?) in
            helloNonces[peer] = hello.joinNonce
            let known = peerNonces[peer]
            let rejoined = phase == .running && known != nil && known != hello.joinNonce
            let reply = Welcome(stepsTaken: stepsTaken, phase: phase, joinNonce: nonce, turns: turns)
            return (reply, rejoined ? "party \(peer) joins the session again" : nil)
        }
        if let fault { raiseFault(fault) }
        return reply
    }

    /// Throws unless the party serves `peer`'s turns now: it loaded the
    /// checkpoint every party agreed on, and the peer's latest Hello carried
    /// the nonce its Welcome reported, so nothing left from the peer's
    /// earlier join can reach the shard.
    func admitTurnRequest(from peer: Int) throws {
        try condition.withLock {
            guard phase == .ready || phase == .running else {
                throw ErrorReply(code: .state, message: "party \(partyID) is joining its session and serves no turn "
                                     + "until every party has loaded the same checkpoint.")
            }
            guard let known = peerNonces[peer], helloNonces[peer] == known else {
                throw ErrorReply(code: .state, message: "party \(partyID) serves no turn of party \(peer) before "
                                     + "party \(peer) has joined the session.")
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
        guard notice.turn == last + 1 else {
            throw ErrorReply(code: .state, message: "party \(peer) handed off turn \(notice.turn), but turn \(last + 1) "
                                 + "is the next one party \(partyID) expects.")
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
