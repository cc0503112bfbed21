import CPCMoEWire

extension Envelope {
    /// Serializes the envelope with protobuf-c: the bytes that go on the wire.
    public func encoded() -> [UInt8] {
        let arena = CArena()
        let envelope: UnsafeMutablePointer<Pcmoe__V1__Envelope> = arena.make { pcmoe__v1__envelope__init($0) }
        envelope.pointee.protocol_version = version
        envelope.pointee.session = session
        envelope.pointee.sender = sender
        envelope.pointee.receiver = receiver
        envelope.pointee.request_id = requestID
        body.fill(envelope, arena: arena)

        let size = pcmoe__v1__envelope__get_packed_size(envelope)
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer { pcmoe__v1__envelope__pack(envelope, $0.baseAddress) }
        precondition(written == size, "protobuf-c packed \(written) of \(size) bytes")
        return bytes
    }
}

extension MessageBody {
    /// Points the envelope's oneof at a C copy of this body.
    fileprivate func fill(_ envelope: UnsafeMutablePointer<Pcmoe__V1__Envelope>, arena: CArena) {
        switch self {
        case .hello(let hello):
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_HELLO
            envelope.pointee.hello = hello.c(arena)
        case .welcome(let body):
            let welcome: UnsafeMutablePointer<Pcmoe__V1__Welcome> = arena.make { pcmoe__v1__welcome__init($0) }
            welcome.pointee.steps_taken = body.stepsTaken
            welcome.pointee.phase = Pcmoe__V1__SessionPhase(rawValue: UInt32(body.phase.rawValue))
            welcome.pointee.join_nonce = body.joinNonce
            welcome.pointee.turns = body.turns
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_WELCOME
            envelope.pointee.welcome = welcome
        case .forward(let request):
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_FORWARD
            envelope.pointee.forward = request.c(arena)
        case .forwardReply(let reply):
            let c: UnsafeMutablePointer<Pcmoe__V1__ExpertForwardReply> = arena.make { pcmoe__v1__expert_forward_reply__init($0) }
            (c.pointee.turn, c.pointee.layer, c.pointee.outputs) = (reply.turn, reply.layer, reply.tensor.c(arena))
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_FORWARD_REPLY
            envelope.pointee.forward_reply = c
        case .backward(let request):
            let c: UnsafeMutablePointer<Pcmoe__V1__ExpertBackwardRequest> = arena.make { pcmoe__v1__expert_backward_request__init($0) }
            (c.pointee.turn, c.pointee.layer, c.pointee.output_gradients) = (request.turn, request.layer, request.tensor.c(arena))
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_BACKWARD
            envelope.pointee.backward = c
        case .backwardReply(let reply):
            let c: UnsafeMutablePointer<Pcmoe__V1__ExpertBackwardReply> = arena.make { pcmoe__v1__expert_backward_reply__init($0) }
            (c.pointee.turn, c.pointee.layer, c.pointee.input_gradients) = (reply.turn, reply.layer, reply.tensor.c(arena))
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_BACKWARD_REPLY
            envelope.pointee.backward_reply = c
        case .step(let step):
            let c: UnsafeMutablePointer<Pcmoe__V1__StepRequest> = arena.make { pcmoe__v1__step_request__init($0) }
            (c.pointee.turn, c.pointee.global_step) = (step.turn, step.globalStep)
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_STEP
            envelope.pointee.step = c
        case .stepReply(let step):
            let c: UnsafeMutablePointer<Pcmoe__V1__StepReply> = arena.make { pcmoe__v1__step_reply__init($0) }
            (c.pointee.turn, c.pointee.global_step, c.pointee.gradient_norm) = (step.turn, step.globalStep, step.gradientNorm)
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_STEP_REPLY
            envelope.pointee.step_reply = c
        case .abort(let turn):
            let c: UnsafeMutablePointer<Pcmoe__V1__AbortRequest> = arena.make { pcmoe__v1__abort_request__init($0) }
            c.pointee.turn = turn
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_ABORT
            envelope.pointee.abort = c
        case .abortReply(let turn):
            let c: UnsafeMutablePointer<Pcmoe__V1__AbortReply> = arena.make { pcmoe__v1__abort_reply__init($0) }
            c.pointee.turn = turn
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_ABORT_REPLY
            envelope.pointee.abort_reply = c
        case .error(let error):
            let c: UnsafeMutablePointer<Pcmoe__V1__ErrorReply> = arena.make { pcmoe__v1__error_reply__init($0) }
            c.pointee.code = Pcmoe__V1__ErrorCode(rawValue: UInt32(error.code.rawValue))
            c.pointee.message = arena.string(error.message)
            c.pointee.layer = error.layer
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_ERROR
            envelope.pointee.error = c
        case .handoff(let notice):
            let c: UnsafeMutablePointer<Pcmoe__V1__Handoff> = arena.make { pcmoe__v1__handoff__init($0) }
            (c.pointee.turn, c.pointee.join_nonce) = (notice.turn, notice.joinNonce)
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_HANDOFF
            envelope.pointee.handoff = c
        case .handoffReply(let turn):
            let c: UnsafeMutablePointer<Pcmoe__V1__HandoffReply> = arena.make { pcmoe__v1__handoff_reply__init($0) }
            c.pointee.turn = turn
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_HANDOFF_REPLY
            envelope.pointee.handoff_reply = c
        case .finished(let notice):
            let c: UnsafeMutablePointer<Pcmoe__V1__Finished> = arena.make { pcmoe__v1__finished__init($0) }
            (c.pointee.turns, c.pointee.join_nonce) = (notice.turn, notice.joinNonce)
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_FINISHED
            envelope.pointee.finished = c
        case .finishedReply(let turns):
            let c: UnsafeMutablePointer<Pcmoe__V1__FinishedReply> = arena.make { pcmoe__v1__finished_reply__init($0) }
            c.pointee.turns = turns
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_FINISHED_REPLY
            envelope.pointee.finished_reply = c
        case .exportRequest(let layer, let expert):
            let c: UnsafeMutablePointer<Pcmoe__V1__ExportRequest> = arena.make { pcmoe__v1__export_request__init($0) }
            (c.pointee.layer, c.pointee.expert) = (layer, expert)
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_EXPORT_REQUEST
            envelope.pointee.export_request = c
        case .exportReply(let reply):
            let c: UnsafeMutablePointer<Pcmoe__V1__ExportReply> = arena.make { pcmoe__v1__export_reply__init($0) }
            (c.pointee.layer, c.pointee.expert, c.pointee.steps_taken) = (reply.layer, reply.expert, reply.stepsTaken)
            (c.pointee.gate, c.pointee.up, c.pointee.down) = (reply.gate.c(arena), reply.up.c(arena), reply.down.c(arena))
            envelope.pointee.body_case = PCMOE__V1__ENVELOPE__BODY_EXPORT_REPLY
            envelope.pointee.export_reply = c
        }
    }
}

extension WireTensor {
    fileprivate func c(_ arena: CArena) -> UnsafeMutablePointer<Pcmoe__V1__Tensor> {
        let tensor: UnsafeMutablePointer<Pcmoe__V1__Tensor> = arena.make { pcmoe__v1__tensor__init($0) }
        tensor.pointee.dtype = Pcmoe__V1__DType(rawValue: UInt32(dtype.rawValue))
        tensor.pointee.n_shape = shape.count
        tensor.pointee.shape = arena.copy(shape)
        tensor.pointee.data = ProtobufCBinaryData(len: data.count, data: arena.copy(data))
        return tensor
    }
}

extension ExpertForwardRequest {
    fileprivate func c(_ arena: CArena) -> UnsafeMutablePointer<Pcmoe__V1__ExpertForwardRequest> {
        let request: UnsafeMutablePointer<Pcmoe__V1__ExpertForwardRequest> =
            arena.make { pcmoe__v1__expert_forward_request__init($0) }
        request.pointee.turn = turn
        request.pointee.layer = layer
        request.pointee.n_experts = experts.count
        request.pointee.experts = arena.copy(experts)
        request.pointee.rows = rows.c(arena)
        request.pointee.inference = inference ? 1 : 0
        return request
    }
}

extension Hello {
    fileprivate func c(_ arena: CArena) -> UnsafeMutablePointer<Pcmoe__V1__Hello> {
        let sizes: UnsafeMutablePointer<Pcmoe__V1__ModelSizes> = arena.make { pcmoe__v1__model_sizes__init($0) }
        sizes.pointee.d_model = UInt32(clamping: config.dModel)
        sizes.pointee.n_heads = UInt32(clamping: config.heads)
        sizes.pointee.n_layers = UInt32(clamping: config.layers)
        sizes.pointee.n_experts = UInt32(clamping: config.experts)
        sizes.pointee.top_k = UInt32(clamping: config.topK)
        sizes.pointee.expert_hidden = UInt32(clamping: config.expertHidden)
        sizes.pointee.seq_len = UInt32(clamping: config.sequence)

        let run: UnsafeMutablePointer<Pcmoe__V1__RunSettings> = arena.make { pcmoe__v1__run_settings__init($0) }
        run.pointee.total_steps = UInt64(clamping: options.steps)
        run.pointee.learning_rate = options.learningRate
        run.pointee.warmup_fraction = options.warmupFraction
        run.pointee.min_lr_ratio = options.minLearningRateRatio
        run.pointee.weight_decay = options.weightDecay
        run.pointee.clip_norm = options.clipNorm
        run.pointee.seed = options.seed
        run.pointee.batch = UInt32(clamping: options.batch)

        let hello: UnsafeMutablePointer<Pcmoe__V1__Hello> = arena.make { pcmoe__v1__hello__init($0) }
        hello.pointee.party_count = partyCount
        hello.pointee.sizes = sizes
        hello.pointee.run = run
        hello.pointee.join_nonce = joinNonce
        hello.pointee.turns_saved = turnsSaved
        hello.pointee.checkpoint_every = checkpointEvery
        return hello
    }
}
