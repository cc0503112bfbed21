import Foundation

/// A request in flight: the peer, the request id, the request's message name, and a label and layer for errors.
struct Call {
    let peer: Int
    let id: UInt64
    let request: String
    let what: String
    let layer: Int?
}

extension Party {
    /// Sends `body` to `peer` and returns without waiting for the reply.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when no transport is set.
    func startCall(to peer: Int, _ body: MessageBody, what: String, layer: Int? = nil) throws -> Call {
        guard let transport else {
            throw PCMoEError.invalidArgument("party \(id) has no transport; attach one before the session starts.")
        }
        let requestID = calls.open(peer: peer)
        let bytes = Envelope(session: settings.session, sender: UInt32(id), receiver: UInt32(peer),
                             requestID: requestID, body: body).encoded()
        countSent(bytes.count)
        transport.send(bytes, to: peer)
        return Call(peer: peer, id: requestID, request: body.name, what: what, layer: layer)
    }

    /// Waits for the reply to `call` and returns its body.
    /// - Throws: ``PCMoEError/peer(_:)`` naming the peer, the request and,
    ///   where there is one, the layer, when the peer answers with an
    ///   ErrorReply or does not reply within the call timeout, and
    ///   ``PCMoEError/cancelled(_:)`` after ``Party/cancel()``.
    func finishCall(_ call: Call, deadline given: Date? = nil, cancellable: Bool = true) throws -> MessageBody {
        let deadline = given ?? Date(timeIntervalSinceNow: settings.callTimeout)
        let place = call.layer.map { " of layer \($0)" } ?? ""
        let reply: MessageBody
        switch calls.wait(id: call.id, until: deadline, cancellable: cancellable) {
        case .reply(let body):
            reply = body
        case .timedOut:
            throw PCMoEError.peer("party \(call.peer) did not answer the \(call.what)\(place) within "
                                      + "\(settings.callTimeout) s.")
        case .cancelled:
            throw PCMoEError.cancelled("party \(id) stopped waiting for the \(call.what)\(place) from party "
                                           + "\(call.peer): the call was cancelled.")
        }
        if case .error(let refusal) = reply {
            throw PCMoEError.peer("party \(call.peer) refused the \(call.what)\(place): \(refusal.message)")
        }
        return reply
    }

    /// Waits for every call, in order, and returns their replies. All
    /// replies are awaited even when one fails, so none is left waiting; the
    /// first failure is then thrown. All calls share one deadline, so
    /// silent peers cost one call timeout together, not one each.
    /// `cancellable` false makes ``Party/cancel()`` leave these waits alone.
    func finishCalls(_ pending: [Call], cancellable: Bool = true) throws -> [MessageBody] {
        var replies: [MessageBody] = []
        var failure: Error?
        let deadline = Date(timeIntervalSinceNow: settings.callTimeout)
        for call in pending {
            do {
                replies.append(try finishCall(call, deadline: deadline, cancellable: cancellable))
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return replies
    }
}

/// Turns a refusal by this party's own shard into the error its turn throws.
func localFailure(_ error: Error, party: Int, what: String, layer: Int) -> Error {
    guard let refusal = error as? ErrorReply else { return error }
    return PCMoEError.peer("party \(party)'s own shard refused the \(what) of layer \(layer): \(refusal.message)")
}
