/// The result of one forward pass over a batch.
public struct ForwardPass {
    /// Mean next-byte cross-entropy in nats.
    public let crossEntropy: Double
    /// The load-balancing loss of each MoE layer.
    public let balanceLosses: [Double]
    let cache: ModelCache?

    /// The training loss: cross-entropy + 0.01 · Σ balance losses.
    public var loss: Double { crossEntropy + balanceLossWeight * balanceLosses.reduce(0, +) }
}

final class ModelCache {
    var inputs: [Int32] = []
    var layers: [LayerCache] = []
    var finalInput: Tensor?
    var finalRstd: Tensor?
    var finalHidden: Tensor?
    var dLogits: Tensor?
}

struct LayerCache {
    let input: Tensor      // [N, d] residual stream entering the layer
    let attnRstd: Tensor   // [N]
    let attention: AttentionCache
    let middle: Tensor     // [N, d] residual stream after attention
    let moeRstd: Tensor    // [N]
    let moe: MoECache
}

/// The byte-level MoE transformer: forward, hand-written backward, and the
/// tensors they use.
///
/// Each layer computes x += Attn(RMSNorm(x)), then x += MoE(RMSNorm(x)); a
/// final RMSNorm and `lm_head` give the next-byte logits. Not thread-safe:
/// one pass at a time.
public final class MoEModel {
    /// The sizes.
    public let config: ModelConfig
    /// The ledger that counts this model's tensor bytes.
    public let ledger: MemoryLedger
    /// The weights. Some experts may be missing when another owner has them.
    public let weights: ModelWeights
    /// Gradients, accumulated by ``backward(_:)``.
    public let gradients: ModelWeights
    /// The expert runner. By default it uses this model's own expert weights.
    public var experts: ExpertCompute
    let ropeTables: RopeTables
    /// Given each layer's post-norm MoE input [N, d] during a forward, when set.
    var moeInputSink: ((Int, Tensor) -> Void)?

    /// Creates a model initialised from `seed`, holding the experts for
    /// which `owns` is true (by default every expert).
    ///
    /// A model that lacks some experts needs an ``experts`` runner that
    /// reaches their owners.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when the configuration is invalid.
    public init(config: ModelConfig, seed: UInt64, ledger: MemoryLedger = MemoryLedger(),
                owns: (Int) -> Bool = { _ in true }) throws {
        try config.validate()
        self.config = config
        self.ledger = ledger
        weights = ModelWeights(config, kind: .parameters, ledger: ledger, owns: owns)
        gradients = ModelWeights(config, kind: .gradients, ledger: ledger, owns: owns)
        weights.initialize(seed: seed)
        experts = LocalExperts(weights: weights, gradients: gradients, ledger: ledger)
        ropeTables = RopeTables(headDim: config.headDim, sequence: config.sequence)
    }

    /// Runs the model over `batch` sequences of T + 1 bytes each (inputs are
    /// the first T bytes of a sequence, targets the last T).
    ///
    /// With `training`, keeps what ``backward(_:)`` needs and computes the
    /// gradient of the loss with respect to the logits.
    /// - Precondition: `tokens.count == batch · (T + 1)`.
    public func forward(tokens: [UInt8], batch: Int, training: Bool) throws -> ForwardPass {
        let t = config.sequence
        precondition(tokens.count == batch * (t + 1), "\(tokens.count) tokens for \(batch) × \(t + 1)")
        let n = batch * t
        var inputs = [Int32](), targets = [UInt8]()
        inputs.reserveCapacity(n)
        targets.reserveCapacity(n)
        for b in 0..<batch {
            for i in 0..<t {
                inputs.append(Int32(tokens[b * (t + 1) + i]))
                targets.append(tokens[b * (t + 1) + i + 1])
            }
        }

        let cache = training ? ModelCache() : nil
        cache?.inputs = inputs
        let (x, balance) = try trunk(inputs, training: training, cache: cache)
        let ce = head(x, targets: targets, cache: cache)
        return ForwardPass(crossEntropy: ce, balanceLosses: balance, cache: cache)
    }

    /// Computes the next-byte logits after each of the first `bytes.count` positions.
    ///
    /// Shorter inputs are padded to T positions, which causal attention makes
    /// invisible to the positions before the padding. Returns [n, 256] values
    /// row-major, n = `bytes.count`.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for an empty input or one longer than T.
    public func logits(for bytes: [UInt8]) throws -> [Float] {
        let (t, d, v) = (config.sequence, config.dModel, ModelConfig.vocabulary)
        guard !bytes.isEmpty, bytes.count <= t else {
            throw PCMoEError.invalidArgument("the input has \(bytes.count) bytes; give 1 to seq_len = \(t) bytes.")
        }
        let inputs = (0..<t).map { $0 < bytes.count ? Int32(bytes[$0]) : 0 }
        let (x, _) = try trunk(inputs, training: false, cache: nil)
        let h = Tensor([t, d], ledger: ledger), rstd = Tensor([t], ledger: ledger)
        rmsNormForward(x, weight: weights.finalNorm, into: h, rstd: rstd)
        let logits = Tensor([t, v], ledger: ledger)
        matmulForward(h, weights.lmHead, into: logits)
        return Array(logits.values.prefix(bytes.count * v))
    }

    /// Embedding and every layer: the residual stream before the final norm.
    private func trunk(_ inputs: [Int32], training: Bool, cache: ModelCache?) throws -> (Tensor, [Double]) {
        var x = Tensor([inputs.count, config.dModel], ledger: ledger)
        gatherRows(weights.tokEmb, index: inputs, into: x)
        var balance: [Double] = []
        for l in 0..<config.layers {
            let (next, layerCache) = try layerForward(x, layer: l, training: training)
            cache?.layers.append(layerCache)
            balance.append(layerCache.moe.balanceLoss)
            x = next
        }
        return (x, balance)
    }

    private func layerForward(_ x: Tensor, layer l: Int, training: Bool) throws -> (Tensor, LayerCache) {
        let w = weights.layers[l]
        let (n, d) = (x.rows, x.columns)
        let h = Tensor([n, d], ledger: ledger), rstd1 = Tensor([n], ledger: ledger)
        rmsNormForward(x, weight: w.attnNorm, into: h, rstd: rstd1)
        let middle = Tensor([n, d], ledger: ledger)
        let attention = attentionBlockForward(h, layer: w, heads: config.heads, rope: ropeTables,
                                              ledger: ledger, into: middle)
        for i in 0..<x.count { middle[i] += x[i] }

        let h2 = Tensor([n, d], ledger: ledger), rstd2 = Tensor([n], ledger: ledger)
        rmsNormForward(middle, weight: w.moeNorm, into: h2, rstd: rstd2)
        moeInputSink?(l, h2)
        let out = Tensor([n, d], ledger: ledger)
        let moe = try moeForward(h2, router: w.router, topK: config.topK, layer: l, experts: experts,
                                 keepForBackward: training, ledger: ledger, into: out)
        for i in 0..<out.count { out[i] += middle[i] }
        return (out, LayerCache(input: x, attnRstd: rstd1, attention: attention, middle: middle,
                                moeRstd: rstd2, moe: moe))
    }

    private func head(_ x: Tensor, targets: [UInt8], cache: ModelCache?) -> Double {
        let (n, d, v) = (x.rows, x.columns, ModelConfig.vocabulary)
        let h = Tensor([n, d], ledger: ledger), rstd = Tensor([n], ledger: ledger)
        rmsNormForward(x, weight: weights.finalNorm, into: h, rstd: rstd)
        let logits = Tensor([n, v], ledger: ledger)
        matmulForward(h, weights.lmHead, into: logits)
        let dLogits = cache == nil ? nil : Tensor([n, v], ledger: ledger)
        let ce = crossEntropy(logits: logits, targets: targets, dlogits: dLogits)
        cache?.finalInput = x
        cache?.finalRstd = rstd
        cache?.finalHidden = h
        cache?.dLogits = dLogits
        return ce
    }

    /// Adds the gradients of the training loss of `pass` to ``gradients``.
    /// - Precondition: `pass` came from ``forward(tokens:batch:training:)`` with `training`.
    public func backward(_ pass: ForwardPass) throws {
        guard let cache = pass.cache, let x = cache.finalInput, let dLogits = cache.dLogits else {
            preconditionFailure("backward needs a forward pass run with training: true")
        }
        let g = gradients
        let dh = Tensor(x.shape, ledger: ledger)
        matmulBackward(cache.finalHidden!, weights.lmHead, dy: dLogits, dw: g.lmHead, dx: dh)
        let dx = Tensor(x.shape, ledger: ledger)
        rmsNormBackward(dy: dh, x: x, weight: weights.finalNorm, rstd: cache.finalRstd!, dx: dx, dw: g.finalNorm)

        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            try layerBackward(dx, cache: cache.layers[l], layer: l)
        }
        scatterAddRows(dx, index: cache.inputs, into: g.tokEmb)
    }

    /// Turns dx from ∂L/∂(layer output) into ∂L/∂(layer input), in place.
    private func layerBackward(_ dx: Tensor, cache c: LayerCache, layer l: Int) throws {
        let (w, g) = (weights.layers[l], gradients.layers[l])
        let dMoeInput = try moeBackward(dx, cache: c.moe, router: w.router, dRouter: g.router, layer: l,
                                        experts: experts, auxScale: balanceLossWeight, ledger: ledger)
        rmsNormBackward(dy: dMoeInput, x: c.middle, weight: w.moeNorm, rstd: c.moeRstd, dx: dx, dw: g.moeNorm)

        let dAttnInput = attentionBlockBackward(dx, cache: c.attention, layer: w, grads: g, heads: config.heads,
                                                rope: ropeTables, ledger: ledger)
        rmsNormBackward(dy: dAttnInput, x: c.input, weight: w.attnNorm, rstd: c.attnRstd, dx: dx, dw: g.attnNorm)
    }
}
