/// The protocol version this build speaks, carried in every envelope.
public let protocolVersion: UInt32 = 1

/// The element type of a tensor on the wire.
public enum WireDType: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// IEEE 754 binary32.
    case f32 = 0
    /// bfloat16: the upper half of a binary32, rounded to nearest even.
    case bf16 = 1
    /// IEEE 754 binary16.
    case f16 = 2

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }

    /// The name used in options and reports: f32, bf16 or f16.
    public var description: String {
        switch self {
        case .f32: return "f32"
        case .bf16: return "bf16"
        case .f16: return "f16"
        }
    }
}

/// A dense row-major array as it travels: element type, shape and
/// little-endian bytes. Nothing here is checked; see ``WireTensor/decode(rows:columns:what:)``.
public struct WireTensor: Equatable, Sendable {
    /// The element type of ``data``.
    public var dtype: WireDType
    /// Sizes, outermost first.
    public var shape: [UInt64]
    /// The elements, little-endian.
    public var data: [UInt8]

    /// Creates a wire tensor from its parts.
    public init(dtype: WireDType, shape: [UInt64], data: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }
}

/// The model sizes and run settings a session agrees on (the Hello body).
public struct Hello: Equatable, Sendable {
    /// Parties in the session.
    public var partyCount: UInt32
    /// The model sizes.
    public var config: ModelConfig
    /// The run settings that must match.
    public var options: TrainingOptions
    /// New each time the sender starts to join a coordinated session; 0 outside one.
    public var joinNonce: UInt64 = 0
    /// Turns complete in the sender's newest checkpoint; 0 outside a coordinated session.
    public var turnsSaved: UInt64 = 0
    /// Rounds between the sender's checkpoints; 0 outside a coordinated session.
    public var checkpointEvery: UInt32 = 0

    /// Creates a Hello from its parts.
    public init(partyCount: UInt32, config: ModelConfig, options: TrainingOptions,
                joinNonce: UInt64 = 0, turnsSaved: UInt64 = 0, checkpointEvery: UInt32 = 0) {
        self.partyCount = partyCount
        self.config = config
        self.options = options
        self.joinNonce = joinNonce
        self.turnsSaved = turnsSaved
        self.checkpointEvery = checkpointEvery
    }
}

/// The phase of a party in a coordinated session.
public enum SessionPhase: Int, Sendable, CaseIterable {
    /// The party runs no coordinated session.
    case none = 0
    /// Choosing, with the others, the checkpoint to resume from.
    case joining = 1
    /// Loaded that checkpoint; waiting for every other party to load it.
    case ready = 2
    /// Taking and serving turns.
    case running = 3
}

/// The reply to a Hello whose sizes and settings match the receiver's.
public struct Welcome: Equatable, Sendable {
    /// Optimizer steps the receiver's shard has taken.
    public var stepsTaken: UInt64
    /// The receiver's phase; ``SessionPhase/none`` outside a coordinated session.
    public var phase: SessionPhase = .none
    /// The receiver's own join nonce.
    public var joinNonce: UInt64 = 0
    /// Joining: turns complete in the receiver's newest checkpoint. Ready
    /// and running: turns complete in the checkpoint it loaded.
    public var turns: UInt64 = 0

    /// Creates a Welcome from its parts.
    public init(stepsTaken: UInt64, phase: SessionPhase = .none, joinNonce: UInt64 = 0, turns: UInt64 = 0) {
        self.stepsTaken = stepsTaken
        self.phase = phase
        self.joinNonce = joinNonce
        self.turns = turns
    }
}

/// A turn hand-off or a finish notice: the turn count and the sender's join nonce.
public struct SessionNotice: Equatable, Sendable {
    /// Handoff: the turn every owner stepped. Finished: turns complete in the run.
    public var turn: UInt64
    /// The sender's join nonce.
    public var joinNonce: UInt64

    /// Creates a notice from its parts.
    public init(turn: UInt64, joinNonce: UInt64) {
        self.turn = turn
        self.joinNonce = joinNonce
    }
}

/// One expert's weights, as its owner exports them: gate and up
/// [d_model, expert_hidden], down [expert_hidden, d_model], always f32.
public struct ExpertExport: Equatable, Sendable {
    /// MoE layer, from 0.
    public var layer: UInt32
    /// Expert id within the layer.
    public var expert: UInt32
    /// The owner's expert steps when it read the weights.
    public var stepsTaken: UInt64
    /// The three matrices.
    public var gate: WireTensor, up: WireTensor, down: WireTensor

    /// Creates an export reply from its parts.
    public init(layer: UInt32, expert: UInt32, stepsTaken: UInt64, gate: WireTensor, up: WireTensor, down: WireTensor) {
        self.layer = layer
        self.expert = expert
        self.stepsTaken = stepsTaken
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// Rows routed to experts of the receiver in one MoE layer.
public struct ExpertForwardRequest: Equatable, Sendable {
    /// Global turn number, from 1.
    public var turn: UInt64
    /// MoE layer, from 0.
    public var layer: UInt32
    /// The expert id of each row.
    public var experts: [UInt32]
    /// [rows, d_model] post-norm hidden rows.
    public var rows: WireTensor
    /// True when the receiver keeps nothing for a backward.
    public var inference: Bool

    /// Creates a request from its parts.
    public init(turn: UInt64, layer: UInt32, experts: [UInt32], rows: WireTensor, inference: Bool = false) {
        self.turn = turn
        self.layer = layer
        self.experts = experts
        self.rows = rows
        self.inference = inference
    }
}

/// A tensor answering, or asking about, one layer of one turn: the forward
/// reply, the backward request and the backward reply all have this shape.
public struct LayerTensor: Equatable, Sendable {
    /// Global turn number.
    public var turn: UInt64
    /// MoE layer.
    public var layer: UInt32
    /// [rows, d_model]
    public var tensor: WireTensor

    /// Creates the body from its parts.
    public init(turn: UInt64, layer: UInt32, tensor: WireTensor) {
        self.turn = turn
        self.layer = layer
        self.tensor = tensor
    }
}

/// The step that ends a turn, or its reply.
public struct StepBody: Equatable, Sendable {
    /// The turn being ended.
    public var turn: UInt64
    /// The global optimizer step, from 1.
    public var globalStep: UInt64
    /// In a reply: the shard's gradient norm before clipping; 0 in a request.
    public var gradientNorm: Double

    /// Creates the body from its parts.
    public init(turn: UInt64, globalStep: UInt64, gradientNorm: Double = 0) {
        self.turn = turn
        self.globalStep = globalStep
        self.gradientNorm = gradientNorm
    }
}

/// The reason a receiver rejected a request.
public enum WireErrorCode: Int, Sendable, CaseIterable {
    case unspecified = 0, malformed, version, session, invalidRequest, notFinite, state, mismatch, internalError
    /// The request is valid, but the receiver's policy declines it.
    case refused
}

/// The reply to a rejected request.
public struct ErrorReply: Equatable, Sendable {
    /// The category of the refusal.
    public var code: WireErrorCode
    /// One sentence naming the offending field and value.
    public var message: String
    /// The request's layer, when it had one.
    public var layer: UInt32

    /// Creates an error reply.
    public init(code: WireErrorCode, message: String, layer: UInt32 = 0) {
        self.code = code
        self.message = message
        self.layer = layer
    }
}

/// The content of an envelope: one of the protocol's messages.
public enum MessageBody: Equatable, Sendable {
    case hello(Hello)
    /// The reply to a matching Hello: the receiver's shard step count and session phase.
    case welcome(Welcome)
    case forward(ExpertForwardRequest)
    case forwardReply(LayerTensor)
    case backward(LayerTensor)
    case backwardReply(LayerTensor)
    case step(StepBody)
    case stepReply(StepBody)
    case abort(turn: UInt64)
    case abortReply(turn: UInt64)
    case error(ErrorReply)
    /// Tells a party that every owner stepped a turn.
    case handoff(SessionNotice)
    case handoffReply(turn: UInt64)
    /// Tells a party that the sender finished its run.
    case finished(SessionNotice)
    case finishedReply(turns: UInt64)
    /// Asks the owner of an expert for its weights in one layer.
    case exportRequest(layer: UInt32, expert: UInt32)
    case exportReply(ExpertExport)

    /// True for the bodies a receiver answers; false for replies.
    public var isRequest: Bool {
        switch self {
        case .hello, .forward, .backward, .step, .abort, .handoff, .finished, .exportRequest: return true
        default: return false
        }
    }

    /// The message name used in errors and docs.
    /// ``name`` with its indefinite article, for sentences.
    public var nameWithArticle: String {
        ("AEIOU".contains(name.first ?? "x") ? "an " : "a ") + name
    }

    public var name: String {
        switch self {
        case .hello: return "Hello"
        case .welcome: return "Welcome"
        case .forward: return "ExpertForwardRequest"
        case .forwardReply: return "ExpertForwardReply"
        case .backward: return "ExpertBackwardRequest"
        case .backwardReply: return "ExpertBackwardReply"
        case .step: return "StepRequest"
        case .stepReply: return "StepReply"
        case .abort: return "AbortRequest"
        case .abortReply: return "AbortReply"
        case .error: return "ErrorReply"
        case .handoff: return "Handoff"
        case .handoffReply: return "HandoffReply"
        case .finished: return "Finished"
        case .finishedReply: return "FinishedReply"
        case .exportRequest: return "ExportRequest"
        case .exportReply: return "ExportReply"
        }
    }
}

/// One message with its addressing: what travels between parties.
public struct Envelope: Equatable, Sendable {
    /// The sender's protocol version.
    public var version: UInt32
    /// The session both ends agreed on; never 0.
    public var session: UInt64
    /// Party id of the sender.
    public var sender: UInt32
    /// Party id of the receiver.
    public var receiver: UInt32
    /// Chosen by the requester; a reply carries the id of its request.
    public var requestID: UInt64
    /// The message.
    public var body: MessageBody

    /// Creates an envelope of the current ``protocolVersion``.
    public init(session: UInt64, sender: UInt32, receiver: UInt32, requestID: UInt64, body: MessageBody,
                version: UInt32 = protocolVersion) {
        self.version = version
        self.session = session
        self.sender = sender
        self.receiver = receiver
        self.requestID = requestID
        self.body = body
    }
}
