import Foundation

extension SessionRunner {
    /// Joins the session and returns the turns complete in the checkpoint
    /// every party loaded.
    ///
    /// The party greets every peer until all answer. While joining, it
    /// takes the newest checkpoint every party has (the oldest of the
    /// newest ones reported) and loads it; then it greets until every peer
    /// has loaded the same one. A peer still running an earlier join learns
    /// from the Hello's new nonce that the session broke and joins too.
    /// - Throws: ``PCMoEError/peer(_:)`` for a mismatched setting or when the
    ///   join timeout passes; the errors of loading the checkpoint.
    func join(resuming: Bool) throws -> UInt64 {
        let newest = checkpoints.saved().last ?? 0
        let nonce = state.enterJoining(turnsSaved: newest)
        party.forgetSessionTraffic()
        let hello = state.hello(from: party, nonce: nonce, turnsSaved: newest)
        let deadline = Date(timeIntervalSinceNow: options.joinTimeout)
        var loaded: UInt64?
        var answered: Set<Int> = []
        while true {
            try checkStop()
            if let refused = state.refusedHello { throw PCMoEError.peer(refused) }
            let welcomes = try party.greet(hello, timeout: options.helloTimeout)
            answered.formUnion(welcomes.keys)
            let missing = party.peers.filter { welcomes[$0] == nil }
            if missing.isEmpty {
                state.learn(welcomes)
                if loaded == nil, !welcomes.values.contains(where: { $0.phase == .running }) {
                    let turns = welcomes.values.map(\.turns).reduce(newest, min)
                    try load(turns: turns, reportedBy: welcomes)
                    loaded = turns
                }
                if let turns = loaded, agreed(welcomes, on: turns) {
                    state.enterRunning()
                    host.markJoined()
                    report(.joined(turns: turns, resumed: resuming || turns > 0))
                    return turns
                }
            }
            guard Date() < deadline else {
                throw PCMoEError.peer(joinFailure(missing: missing, answered: answered, welcomes: welcomes))
            }
            if missing.isEmpty { usleep(50_000) }
        }
    }

    /// True when every peer loaded the checkpoint of `turns`.
    private func agreed(_ welcomes: [Int: Welcome], on turns: UInt64) -> Bool {
        welcomes.values.allSatisfy { ($0.phase == .ready || $0.phase == .running) && $0.turns == turns }
    }

    /// Loads the checkpoint after `turns` turns and removes newer ones,
    /// which belong to a stretch of the run that is repeated. A party that
    /// has not trained and has no checkpoint starts at turn 0 as it is.
    private func load(turns: UInt64, reportedBy welcomes: [Int: Welcome]) throws {
        let saved = checkpoints.saved()
        if saved.isEmpty, turns == 0, host.metrics.turns == 0, party.expertSteps == 0 {
            state.enterReady(loadedTurns: 0)
            return
        }
        guard saved.contains(turns) else {
            let low = welcomes.filter { $0.value.turns == turns }.keys.sorted()
            let who = low.isEmpty ? "this party" : "party " + low.map(String.init).joined(separator: " and ")
            throw PCMoEError.invalidCheckpoint("party \(party.id) keeps checkpoints after \(saved) turns in "
                + "\(checkpoints.folder), but \(who) has none newer than turn \(turns). Give each party back its own "
                + "checkpoint folder, or start every party afresh with empty folders.")
        }
        let path = checkpoints.path(turns: turns)
        do {
            try host.load(from: path)
        } catch let error as PCMoEError {
            throw PCMoEError.invalidCheckpoint("\(error.message) Remove \(path) to resume from an older checkpoint, or "
                                                   + "give this party the checkpoint folder of this run.")
        }
        try checkCounters(turns: turns, path: path)
        for newer in saved where newer > turns {
            unlink(checkpoints.path(turns: newer))
        }
        state.enterReady(loadedTurns: turns)
    }

    /// Checks that a session checkpoint after `turns` turns stepped exactly those turns.
    private func checkCounters(turns: UInt64, path: String) throws {
        let (steps, last) = party.shard.lock.withLock { (party.shard.optimizer.stepCount, party.shard.lastSteppedTurn) }
        guard UInt64(steps) == turns, last == turns else {
            throw PCMoEError.invalidCheckpoint("\(path) records \(steps) expert steps and last turn \(last), but a session "
                                                   + "checkpoint after \(turns) turns must record \(turns) of each; remove it, "
                                                   + "or start every party afresh with empty folders.")
        }
    }

    private func joinFailure(missing: [Int], answered: Set<Int>, welcomes: [Int: Welcome]) -> String {
        let waited = "party \(party.id) could not join the session within \(options.joinTimeout) s"
        guard missing.isEmpty else {
            let silent = missing.filter { !answered.contains($0) }
            let left = missing.filter { answered.contains($0) }
            var parts: [String] = []
            if !silent.isEmpty {
                parts.append("\(partyList(silent)) never answered; check that \(silent.count == 1 ? "it runs" : "they run"), "
                                 + "with the same session id, keys and --insecure-plain-tcp setting")
            }
            if !left.isEmpty {
                parts.append("\(partyList(left)) answered earlier but stopped answering, so check \(left.count == 1 ? "its" : "their") output")
            }
            return waited + ": " + parts.joined(separator: "; ") + "."
        }
        let states = welcomes.keys.sorted().map { "party \($0) is \(welcomes[$0]!.phase) at turn \(welcomes[$0]!.turns)" }
        return waited + ": " + states.joined(separator: ", ") + "."
    }
}

/// "party 3", "parties 1 and 2", "parties 0, 1 and 4".
func partyList(_ ids: [Int]) -> String {
    let names = ids.map(String.init)
    guard names.count > 1 else { return "party " + (names.first ?? "") }
    return "parties " + names.dropLast().joined(separator: ", ") + " and " + names.last!
}
