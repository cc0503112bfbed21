import CPCMoEWire

extension ErrorReply: Error {}

extension Envelope {
    /// Checks a frame's length before anything reads it.
    /// - Throws: ``ErrorReply`` with code ``WireErrorCode/malformed`` when
    ///   `count` is above `maxBytes`.
    public static func checkFrameSize(_ count: Int, maxBytes: Int) throws {
        guard count <= maxBytes else {
            throw ErrorReply(code: .malformed,
                             message: "the frame has \(count) bytes; the largest this party accepts is \(maxBytes).")
        }
    }

    /// Parses bytes received from a peer.
    ///
    /// The length is checked against `maxBytes` before protobuf-c sees the
    /// bytes. Nothing else is checked beyond the encoding: the receiver
    /// validates the fields against its configuration.
    /// - Throws: ``ErrorReply`` with code ``WireErrorCode/malformed`` for an
    ///   oversized frame, bytes that are not an Envelope, an envelope without
    ///   a message or a tensor of an unknown dtype.
    public static func decode(_ bytes: [UInt8], maxBytes: Int) throws -> Envelope {
        try checkFrameSize(bytes.count, maxBytes: maxBytes)
        let parsed = bytes.withUnsafeBufferPointer { pcmoe__v1__envelope__unpack(nil, $0.count, $0.baseAddress) }
        guard let parsed else {
            throw ErrorReply(code: .malformed, message: "the \(bytes.count) bytes are not a valid pcmoe.v1.Envelope.")
        }
        defer { pcmoe__v1__envelope__free_unpacked(parsed, nil) }

        let e = parsed.pointee
        return Envelope(session: e.session, sender: e.sender, receiver: e.receiver, requestID: e.request_id,
                        body: try MessageBody(e), version: e.protocol_version)
    }
}

extension MessageBody {
    fileprivate init(_ e: Pcmoe__V1__Envelope) throws {
        switch e.body_case {
        case PCMOE__V1__ENVELOPE__BODY_HELLO:
            self = .hello(try Hello(e.hello.pointee))
        case PCMOE__V1__ENVELOPE__BODY_WELCOME:
            let w = e.welcome.pointee
            guard let phase = SessionPhase(rawValue: Int(w.phase.rawValue)) else {
                throw ErrorReply(code: .malformed, message: "the Welcome's session phase \(w.phase.rawValue) is not one of 0 to 3.")
            }
            self = .welcome(Welcome(stepsTaken: w.steps_taken, phase: phase, joinNonce: w.join_nonce, turns: w.turns))
        case PCMOE__V1__ENVELOPE__BODY_FORWARD:
            let r = e.forward.pointee
            let experts = r.n_experts == 0 ? [] : Array(UnsafeBufferPointer(start: r.experts, count: r.n_experts))
            self = .forward(ExpertForwardRequest(turn: r.turn, layer: r.layer, experts: experts,
                                                 rows: try WireTensor(r.rows), inference: r.inference != 0))
        case PCMOE__V1__ENVELOPE__BODY_FORWARD_REPLY:
            let r = e.forward_reply.pointee
            self = .forwardReply(LayerTensor(turn: r.turn, layer: r.layer, tensor: try WireTensor(r.outputs)))
        case PCMOE__V1__ENVELOPE__BODY_BACKWARD:
            let r = e.backward.pointee
            self = .backward(LayerTensor(turn: r.turn, layer: r.layer, tensor: try WireTensor(r.output_gradients)))
        case PCMOE__V1__ENVELOPE__BODY_BACKWARD_REPLY:
            let r = e.backward_reply.pointee
            self = .backwardReply(LayerTensor(turn: r.turn, layer: r.layer, tensor: try WireTensor(r.input_gradients)))
        case PCMOE__V1__ENVELOPE__BODY_STEP:
            self = .step(StepBody(turn: e.step.pointee.turn, globalStep: e.step.pointee.global_step))
        case PCMOE__V1__ENVELOPE__BODY_STEP_REPLY:
            let r = e.step_reply.pointee
            self = .stepReply(StepBody(turn: r.turn, globalStep: r.global_step, gradientNorm: r.gradient_norm))
        case PCMOE__V1__ENVELOPE__BODY_ABORT:
            self = .abort(turn: e.abort.pointee.turn)
        case PCMOE__V1__ENVELOPE__BODY_ABORT_REPLY:
            self = .abortReply(turn: e.abort_reply.pointee.turn)
        case PCMOE__V1__ENVELOPE__BODY_HANDOFF:
            self = .handoff(SessionNotice(turn: e.handoff.pointee.turn, joinNonce: e.handoff.pointee.join_nonce))
        case PCMOE__V1__ENVELOPE__BODY_HANDOFF_REPLY:
            self = .handoffReply(turn: e.handoff_reply.pointee.turn)
        case PCMOE__V1__ENVELOPE__BODY_FINISHED:
            self = .finished(SessionNotice(turn: e.finished.pointee.turns, joinNonce: e.finished.pointee.join_nonce))
        case PCMOE__V1__ENVELOPE__BODY_FINISHED_REPLY:
            self = .finishedReply(turns: e.finished_reply.pointee.turns)
        case PCMOE__V1__ENVELOPE__BODY_EXPORT_REQUEST:
            self = .exportRequest(layer: e.export_request.pointee.layer, expert: e.export_request.pointee.expert)
        case PCMOE__V1__ENVELOPE__BODY_EXPORT_REPLY:
            let r = e.export_reply.pointee
            self = .exportReply(ExpertExport(layer: r.layer, expert: r.expert, stepsTaken: r.steps_taken,
                                             gate: try WireTensor(r.gate), up: try WireTensor(r.up),
                                             down: try WireTensor(r.down)))
        case PCMOE__V1__ENVELOPE__BODY_ERROR:
            let r = e.error.pointee
            let code = WireErrorCode(rawValue: Int(r.code.rawValue)) ?? .unspecified
            self = .error(ErrorReply(code: code, message: r.message.map { String(cString: $0) } ?? "", layer: r.layer))
        default:
            // A newer protocol may add messages that parse as an empty body here.
            if e.protocol_version != 0 && e.protocol_version != protocolVersion {
                throw ErrorReply(code: .version, message: "the message speaks protocol version \(e.protocol_version); "
                                     + "this party speaks version \(protocolVersion).")
            }
            throw ErrorReply(code: .malformed, message: "the envelope carries no message (body case \(e.body_case.rawValue)).")
        }
    }
}

extension WireTensor {
    /// Copies a parsed tensor; a missing one reads as an empty f32 tensor of shape [].
    fileprivate init(_ c: UnsafeMutablePointer<Pcmoe__V1__Tensor>?) throws {
        guard let t = c?.pointee else {
            self.init(dtype: .f32, shape: [], data: [])
            return
        }
        guard let dtype = WireDType(rawValue: Int(t.dtype.rawValue)) else {
            throw ErrorReply(code: .malformed, message: "tensor dtype \(t.dtype.rawValue) is not one of f32 (0), bf16 (1), f16 (2).")
        }
        let shape = t.n_shape == 0 ? [] : Array(UnsafeBufferPointer(start: t.shape, count: t.n_shape))
        let data = t.data.len == 0 ? [] : Array(UnsafeBufferPointer(start: t.data.data, count: t.data.len))
        self.init(dtype: dtype, shape: shape, data: data)
    }
}

extension Hello {
    fileprivate init(_ h: Pcmoe__V1__Hello) throws {
        guard let sizes = h.sizes?.pointee, let run = h.run?.pointee else {
            throw ErrorReply(code: .malformed, message: "the Hello lacks its sizes or its run settings.")
        }
        let config = ModelConfig(dModel: Int(sizes.d_model), heads: Int(sizes.n_heads), layers: Int(sizes.n_layers),
                                 experts: Int(sizes.n_experts), topK: Int(sizes.top_k),
                                 expertHidden: Int(sizes.expert_hidden), sequence: Int(sizes.seq_len))
        var options = TrainingOptions()
        options.steps = Int(clamping: run.total_steps)
        options.learningRate = run.learning_rate
        options.warmupFraction = run.warmup_fraction
        options.minLearningRateRatio = run.min_lr_ratio
        options.weightDecay = run.weight_decay
        options.clipNorm = run.clip_norm
        options.seed = run.seed
        options.batch = Int(run.batch)
        self.init(partyCount: h.party_count, config: config, options: options, joinNonce: h.join_nonce,
                  turnsSaved: h.turns_saved, checkpointEvery: h.checkpoint_every)
    }
}
