import Foundation

extension Party {
    /// The ids of the other parties.
    var peers: [Int] { (0..<settings.partyCount).filter { $0 != id } }

    /// Sends `hello` to every peer and waits up to `timeout` seconds,
    /// without retries, for the Welcomes.
    /// Returns the Welcomes that came. A peer that did not answer, or whose
    /// session run has not started to join, is missing.
    /// - Throws: ``PCMoEError/peer(_:)`` when a peer answers with an
    ///   ErrorReply, such as a mismatched setting, or with another message.
    func greet(_ hello: Hello, timeout: Double) throws -> [Int: Welcome] {
        let pending = try peers.map { try startCall(to: $0, .hello(hello), what: "Hello") }
        var welcomes: [Int: Welcome] = [:]
        let deadline = Date(timeIntervalSinceNow: timeout)
        for call in pending {
            defer { calls.close(id: call.id) }
            guard case .reply(let reply) = calls.wait(id: call.id, until: deadline, cancellable: false) else { continue }
            if case .error(let refusal) = reply {
                throw PCMoEError.peer("party \(call.peer) refused the Hello: \(refusal.message)")
            }
            guard case .welcome(let welcome) = reply else {
                throw PCMoEError.peer("party \(call.peer) returned \(reply.nameWithArticle) in response to the Hello.")
            }
            // A peer whose session run has not started yet counts as not answering.
            guard welcome.phase != .none, welcome.joinNonce != 0 else { continue }
            welcomes[call.peer] = welcome
        }
        return welcomes
    }

    /// Sends `body` to each of `peers` in turn and waits for the replies.
    /// - Throws: ``PCMoEError/peer(_:)`` naming the first peer that refused
    ///   or did not answer.
    func notify(_ peers: [Int], _ body: MessageBody, what: String) throws {
        let calls = try peers.map { try startCall(to: $0, body, what: what) }
        _ = try finishCalls(calls, cancellable: false)
    }

    /// Forgets every cached reply and any turn in flight, before the party
    /// loads the checkpoint a new join agreed on. Waits for the request
    /// being served, if any.
    func forgetSessionTraffic() {
        serveLock.withLock {
            replies = ReplyCache(maxBytes: (4 * config.layers + 4) * maxFrameBytes)
            remote.discardPending()
        }
    }
}
