/// The sizes of the model. Bytes are the tokens, so the vocabulary is 256.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The vocabulary: one token per byte value.
    public static let vocabulary = 256

    /// Width d of the residual stream.
    public var dModel = 256
    /// Attention heads H; the head width is d / H and must be even.
    public var heads = 4
    /// Transformer layers L, each attention then MoE.
    public var layers = 4
    /// Experts E per MoE layer.
    public var experts = 8
    /// Experts k picked per token, 1 ... E.
    public var topK = 2
    /// Hidden width f of each expert.
    public var expertHidden = 512
    /// Positions T per sequence.
    public var sequence = 128

    /// Creates the reference configuration.
    public init() {}

    /// Creates a configuration with every size given.
    public init(dModel: Int, heads: Int, layers: Int, experts: Int, topK: Int, expertHidden: Int, sequence: Int) {
        self.dModel = dModel
        self.heads = heads
        self.layers = layers
        self.experts = experts
        self.topK = topK
        self.expertHidden = expertHidden
        self.sequence = sequence
    }

    enum CodingKeys: String, CodingKey {
        case dModel = "d_model", heads = "n_heads", layers = "n_layers", experts = "n_experts"
        case topK = "top_k", expertHidden = "expert_hidden", sequence = "seq_len"
    }

    /// The head width d / H.
    public var headDim: Int { dModel / max(heads, 1) }

    /// Returns the largest value this build accepts for the size named `key`.
    ///
    /// Layers and experts have tighter bounds than widths: a model with more
    /// than a thousand layers or thousands of experts per layer is a mistake
    /// in the configuration, and stopping early is more useful than training it.
    public static func largest(_ key: String) -> Int {
        switch key {
        case "n_layers": return 1024
        case "n_experts", "top_k": return 4096
        default: return 1 << 20
        }
    }

    /// Checks every size.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        let sizes = [("d_model", dModel), ("n_heads", heads), ("n_layers", layers), ("n_experts", experts),
                     ("top_k", topK), ("expert_hidden", expertHidden), ("seq_len", sequence)]
        for (name, value) in sizes where value <= 0 {
            throw PCMoEError.invalidArgument("\(name) is \(value); it must be a positive integer.")
        }
        for (name, value) in sizes where value > Self.largest(name) {
            throw PCMoEError.invalidArgument("\(name) is \(value); the largest supported value is \(Self.largest(name)).")
        }
        guard dModel % heads == 0 else {
            throw PCMoEError.invalidArgument(
                "d_model \(dModel) is not divisible by n_heads \(heads); pick sizes with d_model = n_heads × head width.")
        }
        guard headDim % 2 == 0 else {
            throw PCMoEError.invalidArgument(
                "the head width d_model / n_heads = \(headDim) is odd; rotary embedding needs an even head width.")
        }
        guard topK <= experts else {
            throw PCMoEError.invalidArgument("top_k \(topK) is larger than n_experts \(experts); use at most \(experts).")
        }
        try validateMemory(batch: 1)
    }
}
