extension Party {
    /// Handles bytes that arrived for this party and returns the reply to
    /// send, if any. The same as ``receive(_:)`` without the refusal.
    public func handle(_ bytes: [UInt8]) -> Outgoing? {
        receive(bytes).reply
    }

    /// Handles a message in a host's buffer as ``receive(_:)`` does, without
    /// copying a frame larger than ``maxFrameBytes``.
    public func receive(_ buffer: UnsafeBufferPointer<UInt8>, authenticatedSender: Int? = nil) -> Delivery {
        do {
            try Envelope.checkFrameSize(buffer.count, maxBytes: maxFrameBytes)
        } catch {
            countReceived(buffer.count)
            let refusal = (error as? ErrorReply) ?? ErrorReply(code: .malformed, message: "\(error)")
            reject(refusal.message)
            return Delivery(reply: answer(refusal, to: nil, requestID: 0), refusal: refusal.message)
        }
        return receive(Array(buffer), authenticatedSender: authenticatedSender)
    }

    /// Handles bytes that arrived for this party: the reply to send, if
    /// any, and why the message was refused or dropped, if it was.
    ///
    /// A request is checked (frame size, version, session, sender, fields
    /// against this party's configuration) before anything changes. A bad
    /// one gets an ErrorReply and leaves the party as it was. A repeated
    /// request gets the reply it got the first time, computed once. A reply
    /// is matched to the request waiting for it; a reply nobody waits for is
    /// dropped and counted in ``traffic``. Thread-safe.
    ///
    /// `authenticatedSender` is the party a transport authenticated the
    /// connection as. A message whose envelope names another sender is
    /// rejected, so an allowed party cannot pose as another.
    public func receive(_ bytes: [UInt8], authenticatedSender: Int? = nil) -> Delivery {
        countReceived(bytes.count)
        let envelope: Envelope
        do {
            envelope = try Envelope.decode(bytes, maxBytes: maxFrameBytes)
        } catch {
            let reply = (error as? ErrorReply) ?? ErrorReply(code: .malformed, message: "\(error)")
            reject(reply.message)
            return Delivery(reply: answer(reply, to: nil, requestID: 0), refusal: reply.message)
        }

        let sender = Int(envelope.sender)
        let senderKnown = (0..<settings.partyCount).contains(sender) && sender != id
        if let refusal = addressingError(envelope, senderKnown: senderKnown, authenticatedSender: authenticatedSender) {
            reject(refusal.message)
            guard envelope.body.isRequest else { return Delivery(reply: nil, refusal: refusal.message) }
            let reply = answer(refusal, to: senderKnown ? sender : nil, requestID: envelope.requestID,
                               session: envelope.session)
            return Delivery(reply: reply, refusal: refusal.message)
        }
        guard envelope.body.isRequest else {
            guard calls.deliver(id: envelope.requestID, from: sender, reply: envelope.body) else {
                // A reply to a request this party gave up on is late, not hostile.
                let late = calls.wasIssued(envelope.requestID)
                let reason = "party \(sender) sent \(envelope.body.nameWithArticle) for request \(envelope.requestID), which is "
                    + (late ? "no longer waiting (a late reply)." : "not waiting.")
                reject(reason, level: late ? .info : .warning)
                return Delivery(reply: nil, refusal: reason)
            }
            return Delivery(reply: nil, refusal: nil)
        }
        return serve(envelope, bytes: bytes)
    }

    private func addressingError(_ envelope: Envelope, senderKnown: Bool, authenticatedSender: Int?) -> ErrorReply? {
        if let authenticated = authenticatedSender, Int(envelope.sender) != authenticated {
            return ErrorReply(code: .session, message: "the envelope names sender \(envelope.sender), but its connection "
                                  + "authenticated as party \(authenticated).")
        }
        if envelope.version != protocolVersion {
            return ErrorReply(code: .version, message: "the message speaks protocol version \(envelope.version); "
                                  + "party \(id) speaks version \(protocolVersion).")
        }
        if envelope.session != settings.session {
            return ErrorReply(code: .session, message: "the message belongs to session \(envelope.session); "
                                  + "party \(id) is in session \(settings.session).")
        }
        if !senderKnown {
            return ErrorReply(code: .session, message: "sender \(envelope.sender) is not another party of this "
                                  + "session of \(settings.partyCount) parties.")
        }
        if envelope.receiver != UInt32(id) {
            return ErrorReply(code: .session, message: "the message is addressed to party \(envelope.receiver), "
                                  + "not to party \(id).")
        }
        return nil
    }

    /// Builds the reply to a request, from the reply cache when it is a repeat.
    private func serve(_ envelope: Envelope, bytes: [UInt8]) -> Delivery {
        serveLock.lock()
        defer { serveLock.unlock() }
        let sender = Int(envelope.sender)
        switch replies.lookup(sender: sender, requestID: envelope.requestID, request: bytes) {
        case .hit(let cached):
            countSent(cached.count)
            return Delivery(reply: Outgoing(destination: sender, bytes: cached), refusal: nil)
        case .conflict:
            let refusal = ErrorReply(code: .state, message: "request id \(envelope.requestID) of party \(sender) was "
                                         + "already used for a different request.")
            reject(refusal.message)
            return Delivery(reply: answer(refusal, to: sender, requestID: envelope.requestID), refusal: refusal.message)
        case .miss:
            break
        }

        let body: MessageBody
        var refusal: String?
        do {
            body = try respond(to: envelope.body, from: sender)
        } catch let error as ErrorReply {
            refusal = error.message
            body = .error(error)
        } catch {
            refusal = "\(error)"
            body = .error(ErrorReply(code: .internalError, message: "\(error)"))
        }
        if let refusal { reject(refusal) }
        let reply = Envelope(session: settings.session, sender: UInt32(id), receiver: envelope.sender,
                             requestID: envelope.requestID, body: body).encoded()
        // A rejected request changed nothing, so checking a repeat again is
        // safe, and a retry succeeds once the cause of the rejection is gone.
        var remembered = !envelope.body.isReadOnly
        if case .error = body { remembered = false }
        if remembered {
            replies.store(sender: sender, requestID: envelope.requestID, request: bytes, turn: envelope.body.turn,
                          reply: reply)
        }
        countSent(reply.count)
        return Delivery(reply: Outgoing(destination: sender, bytes: reply), refusal: refusal)
    }

    private func respond(to body: MessageBody, from sender: Int) throws -> MessageBody {
        switch body {
        case .hello(let hello):
            do {
                try checkHello(hello, from: sender)
                try session?.checkHello(hello, from: sender)
            } catch let refusal as ErrorReply {
                session?.recordRefusedHello(refusal.message, from: sender)
                throw refusal
            }
            let steps = UInt64(expertSteps)
            return .welcome(session?.welcome(hello, from: sender, stepsTaken: steps) ?? Welcome(stepsTaken: steps))
        case .forward(let request):
            try session?.admitRequest(from: sender, turn: request.inference ? nil : request.turn)
            return .forwardReply(try serveForward(request, from: sender))
        case .backward(let request):
            try session?.admitRequest(from: sender, turn: request.turn)
            return .backwardReply(try serveBackward(request, from: sender))
        case .step(let step):
            try session?.admitRequest(from: sender, turn: step.turn)
            let norm = try shard.step(requester: sender, turn: step.turn, globalStep: step.globalStep)
            replies.forgetBefore(turn: step.turn)
            return .stepReply(StepBody(turn: step.turn, globalStep: step.globalStep, gradientNorm: norm))
        case .abort(let turn):
            shard.abort(requester: sender, turn: turn)
            return .abortReply(turn: turn)
        case .handoff(let notice):
            try coordinatedSession(for: body).receiveHandoff(notice, from: sender)
            return .handoffReply(turn: notice.turn)
        case .finished(let notice):
            try coordinatedSession(for: body).receiveFinished(notice, from: sender)
            return .finishedReply(turns: notice.turn)
        case .exportRequest(let layer, let expert):
            return .exportReply(try shard.export(layer: Int(layer), expert: Int(expert), to: sender,
                                                 allowed: exportAllowed))
        default:
            throw ErrorReply(code: .invalidRequest, message: "\(body.name) is not a request.")
        }
    }

    private func coordinatedSession(for body: MessageBody) throws -> SessionState {
        guard let session else {
            throw ErrorReply(code: .state, message: "party \(id) runs no coordinated session, so it takes no \(body.name).")
        }
        return session
    }

    private func serveForward(_ request: ExpertForwardRequest, from sender: Int) throws -> LayerTensor {
        let (layer, m) = (Int(request.layer), request.experts.count)
        guard m <= maxRequestRows else {
            throw ErrorReply(code: .invalidRequest, message: "the forward of layer \(layer) carries \(m) rows; "
                                 + "party \(id) accepts at most \(maxRequestRows).", layer: request.layer)
        }
        let rows = try inLayer(request.layer) {
            try request.rows.decode(rows: m, columns: config.dModel, what: "the rows of layer \(layer)",
                                    kind: .servedActivations, ledger: ledger)
        }
        let outputs = try shard.forward(requester: sender, turn: request.turn, layer: layer,
                                        experts: request.experts.map(Int.init), rows: rows, inference: request.inference)
        if let sink = rowTaps.receivedSink {
            sink(ReceivedRows(sender: sender, turn: request.turn, layer: layer, experts: request.experts.map(Int.init),
                              rows: Array(rows.values), inference: request.inference))
        }
        return LayerTensor(turn: request.turn, layer: request.layer, tensor: WireTensor(outputs, dtype: settings.wireType))
    }

    private func serveBackward(_ request: LayerTensor, from sender: Int) throws -> LayerTensor {
        let layer = Int(request.layer)
        try shard.checkLayer(layer)
        guard let m = shard.keptRows(requester: sender, turn: request.turn, layer: layer) else {
            throw ErrorReply(code: .state, message: "no forward of layer \(layer) from party \(sender) waits in "
                                 + "turn \(request.turn).", layer: request.layer)
        }
        let gradients = try inLayer(request.layer) {
            try request.tensor.decode(rows: m, columns: config.dModel, what: "the output gradients of layer \(layer)",
                                      kind: .servedActivations, ledger: ledger)
        }
        let inputs = try shard.backward(requester: sender, turn: request.turn, layer: layer, gradients: gradients)
        return LayerTensor(turn: request.turn, layer: request.layer, tensor: WireTensor(inputs, dtype: settings.wireType))
    }

    /// Runs `body` and puts `layer` on the ErrorReply it throws, so that a
    /// refused tensor names the layer of its request.
    private func inLayer<T>(_ layer: UInt32, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var refusal as ErrorReply {
            refusal.layer = layer
            throw refusal
        }
    }

    /// Checks that a Hello describes the same session as this party's own settings.
    private func checkHello(_ hello: Hello, from sender: Int) throws {
        let mine = Hello(partyCount: UInt32(settings.partyCount), config: config, options: options)
        let fields: [(String, String, String)] = [
            ("party count", "\(hello.partyCount)", "\(mine.partyCount)"),
            ("d_model", "\(hello.config.dModel)", "\(config.dModel)"),
            ("n_heads", "\(hello.config.heads)", "\(config.heads)"),
            ("n_layers", "\(hello.config.layers)", "\(config.layers)"),
            ("n_experts", "\(hello.config.experts)", "\(config.experts)"),
            ("top_k", "\(hello.config.topK)", "\(config.topK)"),
            ("expert_hidden", "\(hello.config.expertHidden)", "\(config.expertHidden)"),
            ("seq_len", "\(hello.config.sequence)", "\(config.sequence)"),
            ("steps", "\(hello.options.steps)", "\(options.steps)"),
            ("batch", "\(hello.options.batch)", "\(options.batch)"),
            ("learning_rate", "\(hello.options.learningRate)", "\(options.learningRate)"),
            ("warmup_fraction", "\(hello.options.warmupFraction)", "\(options.warmupFraction)"),
            ("min_lr_ratio", "\(hello.options.minLearningRateRatio)", "\(options.minLearningRateRatio)"),
            ("weight_decay", "\(hello.options.weightDecay)", "\(options.weightDecay)"),
            ("clip_norm", "\(hello.options.clipNorm)", "\(options.clipNorm)"),
            ("seed", "\(hello.options.seed)", "\(options.seed)"),
        ]
        if let (name, theirs, ours) = fields.first(where: { $0.1 != $0.2 }) {
            throw ErrorReply(code: .mismatch, message: "\(name) differs: party \(sender) has \(theirs), party \(id) has \(ours).")
        }
    }

    /// Builds an ErrorReply envelope to `destination`.
    /// Carries `session` (by default this party's), so that a requester in
    /// another session can still match the refusal to its request.
    private func answer(_ refusal: ErrorReply, to destination: Int?, requestID: UInt64, session: UInt64? = nil) -> Outgoing {
        let bytes = Envelope(session: session ?? settings.session, sender: UInt32(id), receiver: UInt32(destination ?? 0),
                             requestID: requestID, body: .error(refusal)).encoded()
        countSent(bytes.count)
        return Outgoing(destination: destination, bytes: bytes)
    }
}

extension MessageBody {
    /// True for a request that changes nothing at the receiver, so a repeat
    /// is recomputed rather than answered from the reply cache. These are
    /// inference forwards, export requests and Hellos. A Welcome reports the current step
    /// count, and a party restarted with the same request ids must not get
    /// the Welcome of its earlier run.
    var isReadOnly: Bool {
        switch self {
        case .forward(let request): return request.inference
        case .hello, .exportRequest: return true
        default: return false
        }
    }

    /// The turn a request or reply belongs to; 0 for control messages.
    var turn: UInt64 {
        switch self {
        case .forward(let r): return r.turn
        case .forwardReply(let r), .backward(let r), .backwardReply(let r): return r.turn
        case .step(let s), .stepReply(let s): return s.turn
        case .abort(let turn), .abortReply(let turn), .handoffReply(let turn): return turn
        case .handoff(let notice): return notice.turn
        default: return 0
        }
    }
}
