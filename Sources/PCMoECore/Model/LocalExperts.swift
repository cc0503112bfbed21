/// Experts computed in this process from weights it holds.
///
/// Holds references to the weight and gradient tensors of each expert it runs
/// and keeps, per layer, the activations of the last training forward.
public final class LocalExperts: ExpertCompute {
    private let weights: ModelWeights
    private let gradients: ModelWeights
    private let ledger: MemoryLedger?
    private var pending: [Int: [Cache]] = [:]

    struct Cache {
        let input: Tensor   // [m, d]
        let gate: Tensor    // [m, f] h·gate
        let up: Tensor      // [m, f] h·up
        let hidden: Tensor  // [m, f] silu(gate) ⊙ up
    }

    /// Experts whose weights and gradients live in `weights` and `gradients`;
    /// activations are counted in `ledger`.
    public init(weights: ModelWeights, gradients: ModelWeights, ledger: MemoryLedger?) {
        self.weights = weights
        self.gradients = gradients
        self.ledger = ledger
    }

    public func forward(layer: Int, batches: [ExpertBatch], keepForBackward: Bool) throws -> [Tensor] {
        var caches: [Cache] = []
        var outputs: [Tensor] = []
        for batch in batches {
            guard let w = weights.layers[layer].experts[batch.expert] else {
                throw PCMoEError.invalidArgument("expert \(batch.expert) of layer \(layer) is not held here.")
            }
            let (m, f, d) = (batch.rows.rows, w.gate.shape[1], w.gate.shape[0])
            let cache = Cache(input: batch.rows, gate: Tensor([m, f], ledger: ledger),
                              up: Tensor([m, f], ledger: ledger), hidden: Tensor([m, f], ledger: ledger))
            matmulForward(batch.rows, w.gate, into: cache.gate)
            matmulForward(batch.rows, w.up, into: cache.up)
            swigluForward(cache.gate, cache.up, into: cache.hidden)
            let out = Tensor([m, d], ledger: ledger)
            matmulForward(cache.hidden, w.down, into: out)
            outputs.append(out)
            if keepForBackward { caches.append(cache) }
        }
        if keepForBackward { pending[layer] = caches }
        return outputs
    }

    public func backward(layer: Int, gradients dOut: [ExpertBatch]) throws -> [Tensor] {
        guard let caches = pending.removeValue(forKey: layer), caches.count == dOut.count else {
            throw PCMoEError.invalidArgument("no forward of layer \(layer) is waiting for this backward.")
        }
        var inputGrads: [Tensor] = []
        for (batch, cache) in zip(dOut, caches) {
            let w = weights.layers[layer].experts[batch.expert]!
            let g = gradients.layers[layer].experts[batch.expert]!
            let (m, f) = (cache.gate.rows, cache.gate.columns)
            let dHidden = Tensor([m, f], ledger: ledger)
            matmulBackward(cache.hidden, w.down, dy: batch.rows, dw: g.down, dx: dHidden)
            let dGate = Tensor([m, f], ledger: ledger), dUp = Tensor([m, f], ledger: ledger)
            swigluBackward(ds: dHidden, cache.gate, cache.up, da: dGate, db: dUp)
            let dInput = Tensor(cache.input.shape, ledger: ledger)
            matmulBackward(cache.input, w.gate, dy: dGate, dw: g.gate, dx: dInput)
            matmulBackward(cache.input, w.up, dy: dUp, dw: g.up, dx: dInput, accumulateInput: true)
            inputGrads.append(dInput)
        }
        return inputGrads
    }

    public func discardPending() {
        pending.removeAll()
    }
}
