import Foundation

/// A request in flight: the peer, the request id, the request's message
/// name, a label and layer for errors, and the bytes, sent again on a retry.
struct Call {
    let peer: Int
    let id: UInt64
    let request: String
    let what: String
    let layer: Int?
    let bytes: [UInt8]
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
        return Call(peer: peer, id: requestID, request: body.name, what: what, layer: layer, bytes: bytes)
    }

    /// Waits for the reply to `call` and returns its body.
    ///
    /// Each attempt waits up to the call timeout. After an attempt without
    /// a reply the request is sent again, with the same request id, up to
    /// ``PartySettings/callRetries`` times; the peer answers a repeat from
    /// its reply cache, so a request is never applied twice.
    /// - Throws: ``PCMoEError/peer(_:)`` naming the peer, the request and,
    ///   where there is one, the layer, when the peer answers with an
    ///   ErrorReply or does not reply to any attempt, and
    ///   ``PCMoEError/cancelled(_:)`` after ``Party/cancel()``.
    func finishCall(_ call: Call, timeout: Double? = nil, retries: Int? = nil, cancellable: Bool = true) throws -> MessageBody {
        defer { calls.close(id: call.id) }
        let (timeout, retries) = (timeout ?? settings.callTimeout, retries ?? settings.callRetries)
        let place = call.layer.map { " of layer \($0)" } ?? ""
        var reply: MessageBody?
        for attempt in 0...retries where reply == nil {
            if attempt > 0 {
                Log.write(.warning, "party \(id) sends the \(call.what)\(place) to party \(call.peer) again (attempt "
                              + "\(attempt + 1) of \(retries + 1), request id \(call.id)).")
                countSent(call.bytes.count)
                transport?.send(call.bytes, to: call.peer)
            }
            switch calls.wait(id: call.id, until: Date(timeIntervalSinceNow: timeout), cancellable: cancellable) {
            case .reply(let body):
                reply = body
            case .timedOut:
                continue
            case .cancelled:
                throw PCMoEError.cancelled("party \(id) stopped waiting for the \(call.what)\(place) from party "
                                               + "\(call.peer): the call was cancelled.")
            }
        }
        guard let reply else {
            let attempts = retries == 0 ? "1 attempt" : "\(retries + 1) attempts"
            throw PCMoEError.peer("party \(call.peer) did not answer the \(call.what)\(place): \(attempts) of \(timeout) s "
                                      + "each went unanswered.")
        }
        if case .error(let refusal) = reply {
            throw PCMoEError.peer("party \(call.peer) refused the \(call.what)\(place): \(refusal.message)")
        }
        return reply
    }

    /// Waits for every call, in order, and returns their replies. All
    /// replies are awaited even when one fails, so none is left waiting; the
    /// first failure is then thrown. `timeout` and `retries` replace the
    /// settings' values when given. `cancellable` false makes
    /// ``Party/cancel()`` leave these waits alone.
    func finishCalls(_ pending: [Call], timeout: Double? = nil, retries: Int? = nil,
                     cancellable: Bool = true) throws -> [MessageBody] {
        var replies: [MessageBody] = []
        var failure: Error?
        for call in pending {
            do {
                replies.append(try finishCall(call, timeout: timeout, retries: retries, cancellable: cancellable))
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
