import Foundation

/// Runs one party through a whole coordinated session: join, the turns in
/// round-robin order, checkpoints, the final evaluation, and a finish that
/// waits for every party. The same runner works over any transport.
///
/// Turn t (from 1) belongs to party (t − 1) mod n. The party that took a
/// turn hands it off, once every owner stepped it, with a Handoff to every
/// other party; the party of the next turn gets it last and only then
/// starts, so no turn overlaps another anywhere. Every party saves a
/// checkpoint after each ``SessionOptions/checkpointEvery`` rounds.
///
/// When a turn fails for want of a peer, a wait times out, or a peer joins
/// again after a restart, every party joins again: each reports its newest
/// checkpoint, all load the newest one every party has, and the run goes
/// on from there. Turns resumed this way give bitwise the losses of a run
/// that never broke.
public final class SessionRunner: @unchecked Sendable {
    /// The hosted party.
    public let host: PartyHost
    /// The coordination settings.
    public let options: SessionOptions
    let state: SessionState
    let checkpoints: SessionCheckpoints
    let report: @Sendable (SessionEvent) -> Void
    private let lock = NSLock()
    private var fatal: Error?
    private var stopRequested = false

    var party: Party { host.party }

    /// Prepares `host` for a session; nothing is sent before ``run()``.
    /// The host's party must have a transport and its training data.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for bad options, and
    ///   ``PCMoEError/io(_:)`` when the checkpoint folder cannot be created.
    public init(host: PartyHost, options: SessionOptions,
                report: @escaping @Sendable (SessionEvent) -> Void = { _ in }) throws {
        try options.validate()
        self.host = host
        self.options = options
        self.report = report
        checkpoints = try SessionCheckpoints(folder: options.checkpointFolder)
        state = SessionState(partyID: host.party.id, partyCount: host.party.settings.partyCount,
                             steps: host.party.options.steps, checkpointEvery: options.checkpointEvery)
        state.onHandoff = { [weak self] turn in try self?.saveAfterHandoff(turn) }
        state.onFault = { [weak host] _ in host?.cancel() }
        host.party.session = state
    }

    /// Runs the session to its end and returns this party's final figures.
    /// - Throws: ``PCMoEError/peer(_:)`` when the parties cannot join within
    ///   the join timeout (naming the missing ones) or disagree on a setting,
    ///   or the session broke more than ``SessionOptions/maxRejoins`` times;
    ///   ``PCMoEError/nonFinite(_:)`` for a diverged turn;
    ///   ``PCMoEError/io(_:)`` when a checkpoint cannot be written;
    ///   ``PCMoEError/invalidCheckpoint(_:)`` when one cannot be read.
    public func run() throws -> SessionSummary {
        checkpoints.removeTemporaryFiles()
        var rejoins = 0
        var training = 0.0
        while true {
            let start = try join(resuming: rejoins > 0)
            if start == 0, checkpoints.saved().isEmpty {
                try checkpoints.save(host, turns: 0)
            }
            let clock = Date()
            do {
                try train(from: start)
                training += Date().timeIntervalSince(clock)
                let evaluation = try host.evaluate(maxWindows: options.evaluationWindows)
                report(.evaluated(evaluation))
                try finish()
                return SessionSummary(evaluation: evaluation, metrics: host.metrics, rejoins: rejoins,
                                      trainingSeconds: training)
            } catch let error as PCMoEError where error.breaksSession {
                if let fatal = lock.withLock({ fatal }) { throw fatal }
                report(.fault(state.fault ?? error.message))
                rejoins += 1
                training += Date().timeIntervalSince(clock)
            }
            guard rejoins <= options.maxRejoins else {
                throw PCMoEError.peer("party \(party.id) stops: the session broke \(rejoins) times, more than the limit "
                                          + "of \(options.maxRejoins).")
            }
        }
    }

    /// Makes ``run()`` stop soon with ``PCMoEError/cancelled(_:)``: the turn
    /// or wait in progress ends, and the party does not join again. The other
    /// parties see the session break. Thread-safe; meant for another thread.
    public func stop() {
        lock.withLock {
            stopRequested = true
            fatal = fatal ?? PCMoEError.cancelled("party \(party.id) stopped its session run on request.")
        }
        state.raiseFault("party \(party.id) was asked to stop")
    }

    /// Throws the stop request or a fatal error, if there is one.
    func checkStop() throws {
        if let fatal = lock.withLock({ fatal }) { throw fatal }
    }

    // MARK: Turns

    /// Takes or waits for every turn after `start`.
    private func train(from start: UInt64) throws {
        let (n, steps) = (UInt64(party.settings.partyCount), UInt64(party.options.steps))
        var turn = start + 1
        while turn <= steps {
            if let reason = state.fault { throw PCMoEError.peer(reason) }
            if Int((turn - 1) % n) == party.id {
                report(.turn(try host.trainTurn(turn)))
                try handOff(turn)
            } else {
                try awaitHandoff(of: turn, from: Int((turn - 1) % n))
            }
            turn += 1
        }
    }

    private func awaitHandoff(of turn: UInt64, from taker: Int) throws {
        switch state.waitForHandoff(of: turn, timeout: options.waitTimeout) {
        case .done:
            if let fatal = lock.withLock({ fatal }) { throw fatal }
        case .fault(let reason):
            throw PCMoEError.peer(reason)
        case .timedOut:
            throw PCMoEError.peer("party \(taker) did not hand off turn \(turn) within \(options.waitTimeout) s.")
        }
    }

    /// Tells every other party that `turn` is stepped everywhere, the party
    /// of the next turn last, and saves this party's checkpoint when due.
    private func handOff(_ turn: UInt64) throws {
        let next = Int(turn % UInt64(party.settings.partyCount))
        let notice = MessageBody.handoff(SessionNotice(turn: turn, joinNonce: state.current.nonce))
        try party.notify(party.peers.filter { $0 != next }, notice, what: "Handoff of turn \(turn)")
        try saveIfDue(turn)
        state.handedOff(turn)
        if next != party.id {
            try party.notify([next], notice, what: "Handoff of turn \(turn)")
        }
    }

    /// Saves for a Handoff that arrived; a failure stops this party's run.
    private func saveAfterHandoff(_ turn: UInt64) throws {
        do {
            try saveIfDue(turn)
        } catch {
            lock.withLock { fatal = fatal ?? error }
            state.raiseFault("party \(party.id) could not save its checkpoint: \(error)")
            throw error
        }
    }

    private func saveIfDue(_ turn: UInt64) throws {
        let n = UInt64(party.settings.partyCount)
        guard turn % (n * UInt64(options.checkpointEvery)) == 0 || turn == UInt64(party.options.steps) else { return }
        try checkpoints.save(host, turns: turn)
        report(.saved(turns: turn))
    }

    /// Tells every other party that this one is done and waits until each of them is.
    ///
    /// A peer that stops once every Finished reached it may leave before
    /// its reply to this party's Finished arrives, so an unanswered Finished
    /// counts as a failure only when the peers do not all finish in time.
    private func finish() throws {
        let steps = UInt64(party.options.steps)
        var unanswered: Error?
        do {
            try party.notify(party.peers, .finished(SessionNotice(turn: steps, joinNonce: state.current.nonce)),
                             what: "Finished")
        } catch {
            unanswered = error
        }
        switch state.waitForFinished(peers: party.peers, timeout: options.waitTimeout) {
        case .done:
            return
        case .timedOut where unanswered != nil:
            throw unanswered!
        case .fault(let reason):
            throw PCMoEError.peer(reason)
        case .timedOut:
            throw PCMoEError.peer("not every party finished within \(options.waitTimeout) s of party \(party.id).")
        }
    }
}

extension PCMoEError {
    /// True for the errors after which the parties join again: a peer that
    /// failed or fell silent, and a turn cancelled because of that.
    var breaksSession: Bool {
        switch self {
        case .peer, .cancelled: return true
        default: return false
        }
    }
}
