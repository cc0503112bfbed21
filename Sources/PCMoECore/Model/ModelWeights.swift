/// The three matrices of one SwiGLU expert: (silu(h·gate) ⊙ h·up)·down.
public final class ExpertWeights {
    /// [d, f]
    public let gate: Tensor
    /// [d, f]
    public let up: Tensor
    /// [f, d]
    public let down: Tensor

    init(_ config: ModelConfig, kind: TensorKind, ledger: MemoryLedger?) {
        let (d, f) = (config.dModel, config.expertHidden)
        gate = Tensor([d, f], kind: kind, ledger: ledger)
        up = Tensor([d, f], kind: kind, ledger: ledger)
        down = Tensor([f, d], kind: kind, ledger: ledger)
    }
}

/// The weights of one transformer layer.
public final class LayerWeights {
    /// RMSNorm weight before attention, [d].
    public let attnNorm: Tensor
    /// Query, key, value and output projections, each [d, d].
    public let wq, wk, wv, wo: Tensor
    /// RMSNorm weight before the MoE, [d].
    public let moeNorm: Tensor
    /// Router, [d, E].
    public let router: Tensor
    /// Expert j at index j, or nil where this holder does not own expert j.
    public let experts: [ExpertWeights?]

    init(_ config: ModelConfig, kind: TensorKind, ledger: MemoryLedger?, owns: (Int) -> Bool) {
        let d = config.dModel
        attnNorm = Tensor([d], kind: kind, ledger: ledger)
        wq = Tensor([d, d], kind: kind, ledger: ledger)
        wk = Tensor([d, d], kind: kind, ledger: ledger)
        wv = Tensor([d, d], kind: kind, ledger: ledger)
        wo = Tensor([d, d], kind: kind, ledger: ledger)
        moeNorm = Tensor([d], kind: kind, ledger: ledger)
        router = Tensor([d, config.experts], kind: kind, ledger: ledger)
        experts = (0..<config.experts).map { owns($0) ? ExpertWeights(config, kind: kind, ledger: ledger) : nil }
    }
}

/// One full set of model-shaped tensors: the weights themselves, or their
/// gradients, or one optimizer moment, depending on `kind`.
///
/// ``named`` lists the tensors under their checkpoint names in one fixed
/// order, which every loop over parameters follows.
public final class ModelWeights {
    /// The sizes.
    public let config: ModelConfig
    /// Token embedding, [256, d].
    public let tokEmb: Tensor
    /// One entry per layer.
    public let layers: [LayerWeights]
    /// Final RMSNorm weight, [d].
    public let finalNorm: Tensor
    /// Output projection, [d, 256].
    public let lmHead: Tensor
    /// Checkpoint name and tensor, in canonical order.
    public let named: [(name: String, tensor: Tensor)]

    /// Zero-filled tensors of `kind`, counted in `ledger`, holding the experts
    /// for which `owns` is true (all of them by default).
    public init(_ config: ModelConfig, kind: TensorKind, ledger: MemoryLedger?, owns: (Int) -> Bool = { _ in true }) {
        let (d, v) = (config.dModel, ModelConfig.vocabulary)
        self.config = config
        tokEmb = Tensor([v, d], kind: kind, ledger: ledger)
        layers = (0..<config.layers).map { _ in LayerWeights(config, kind: kind, ledger: ledger, owns: owns) }
        finalNorm = Tensor([d], kind: kind, ledger: ledger)
        lmHead = Tensor([d, v], kind: kind, ledger: ledger)
        named = Self.list(tokEmb: tokEmb, layers: layers, finalNorm: finalNorm, lmHead: lmHead)
    }

    private static func list(tokEmb: Tensor, layers: [LayerWeights], finalNorm: Tensor, lmHead: Tensor)
        -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = [("tok_emb", tokEmb)]
        for (i, layer) in layers.enumerated() {
            let p = "layers.\(i)."
            out += [(p + "attn_norm.weight", layer.attnNorm), (p + "attn.wq", layer.wq), (p + "attn.wk", layer.wk),
                    (p + "attn.wv", layer.wv), (p + "attn.wo", layer.wo), (p + "moe_norm.weight", layer.moeNorm),
                    (p + "moe.router", layer.router)]
            for (j, expert) in layer.experts.enumerated() {
                guard let expert else { continue }
                let e = p + "moe.experts.\(j)."
                out += [(e + "gate", expert.gate), (e + "up", expert.up), (e + "down", expert.down)]
            }
        }
        out += [("final_norm.weight", finalNorm), ("lm_head", lmHead)]
        return out
    }

    /// Lists the checkpoint names and shapes of a full set of tensors for
    /// `config`, in canonical order, without allocating them.
    public static func shapes(_ config: ModelConfig) -> [(name: String, shape: [Int])] {
        let (d, f, v) = (config.dModel, config.expertHidden, ModelConfig.vocabulary)
        var out: [(String, [Int])] = [("tok_emb", [v, d])]
        for i in 0..<config.layers {
            let p = "layers.\(i)."
            out += [(p + "attn_norm.weight", [d]), (p + "attn.wq", [d, d]), (p + "attn.wk", [d, d]),
                    (p + "attn.wv", [d, d]), (p + "attn.wo", [d, d]), (p + "moe_norm.weight", [d]),
                    (p + "moe.router", [d, config.experts])]
            for j in 0..<config.experts {
                let e = p + "moe.experts.\(j)."
                out += [(e + "gate", [d, f]), (e + "up", [d, f]), (e + "down", [f, d])]
            }
        }
        out += [("final_norm.weight", [d]), ("lm_head", [d, v])]
        return out
    }

    /// True for the RMSNorm weights, which are initialised to 1 and get no weight decay.
    public static func isNorm(_ name: String) -> Bool { name.hasSuffix("norm.weight") }

    /// Fills norms with 1 and every matrix with normal(0, 0.02) samples.
    ///
    /// Each tensor draws from its own stream, `SplitMix64(seed:label:)` with the
    /// tensor's name, so a holder of only some experts gets the same values as
    /// a holder of all of them.
    /// With `only`, initialises just the tensors whose names it accepts.
    public func initialize(seed: UInt64, only: (String) -> Bool = { _ in true }) {
        for (name, tensor) in named where only(name) {
            if Self.isNorm(name) {
                tensor.data.update(repeating: 1, count: tensor.count)
                continue
            }
            var rng = SplitMix64(seed: seed, label: name)
            for i in 0..<tensor.count { tensor[i] = Float(rng.nextNormal(std: 0.02)) }
        }
    }

    /// Sets every tensor to zero.
    public func zero() {
        for (_, tensor) in named { tensor.zero() }
    }

    /// The number of float32 values in all tensors.
    public var parameterCount: Int { named.reduce(0) { $0 + $1.tensor.count } }
}
