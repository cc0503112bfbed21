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
        let deadline = Date(timeIntervalSinceNow: options.joinTimeout)
        var loaded: UInt64?
        while true {
            let welcomes = try party.greet(nonce: nonce, turnsSaved: newest, timeout: options.helloTimeout)
            let missing = party.peers.filter { welcomes[$0] == nil }
            if missing.isEmpty {
                state.learn(welcomes)
                if let turns = loaded, agreed(welcomes, on: turns) {
                    state.enterRunning()
                    host.markJoined()
                    report(.joined(turns: turns, resumed: resuming || turns > 0))
                    return turns
                }
                if loaded == nil, !welcomes.values.contains(where: { $0.phase == .running }) {
                    let turns = welcomes.values.map(\.turns).reduce(newest, min)
                    try load(turns: turns)
                    loaded = turns
                }
            }
            guard Date() < deadline else {
                throw PCMoEError.peer(joinFailure(missing: missing, welcomes: welcomes))
            }
            if missing.isEmpty { usleep(50_000) }
        }
    }

    /// True when every peer loaded the checkpoint of `turns`.
    private func agreed(_ welcomes: [Int: Welcome], on turns: UInt64) -> Bool {
        welcomes.values.allSatisfy { ($0.phase == .ready || $0.phase == .running) && $0.turns == turns }
    }

    /// Loads the checkpoint after `turns` turns and removes newer ones,
    /// which belong to a stretch of the run that is repeated.
    private func load(turns: UInt64) throws {
        let saved = checkpoints.saved()
        guard saved.contains(turns) else {
            throw PCMoEError.invalidCheckpoint("party \(party.id) has no checkpoint after \(turns) turns in "
                                                   + "\(checkpoints.folder) (it has \(saved)); the parties' checkpoint "
                                                   + "folders are not from one run.")
        }
        try host.load(from: checkpoints.path(turns: turns))
        for newer in saved where newer > turns {
            unlink(checkpoints.path(turns: newer))
        }
        state.enterReady(loadedTurns: turns)
    }

    private func joinFailure(missing: [Int], welcomes: [Int: Welcome]) -> String {
        let waited = "party \(party.id) could not join the session within \(options.joinTimeout) s"
        if !missing.isEmpty {
            return waited + ": " + missing.map { "party \($0)" }.joined(separator: ", ") + " did not answer."
        }
        let states = welcomes.keys.sorted().map { peer -> String in
            let w = welcomes[peer]!
            return "party \(peer) is \(w.phase) at turn \(w.turns)"
        }
        return waited + ": " + states.joined(separator: ", ") + "."
    }
}
