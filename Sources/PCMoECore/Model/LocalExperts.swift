/// Experts computed in this process from weights it holds.
///
/// Holds references to the weight and gradient tensors of each expert it runs
/// and keeps, per layer, the activations of the last training forward.
/// The experts of one call run in parallel: they touch disjoint weights and
/// gradients.
public final class LocalExperts: ExpertCompute {
    private let weights: ModelWeights
    private let gradients: ModelWeights
    private let ledger: MemoryLedger?
    private let kind: TensorKind
    private var pending: [Int: [Cache]] = [:]

    struct Cache {
        let input: Tensor   // [m, d]
        let gate: Tensor    // [m, f] h·gate
        let up: Tensor      // [m, f] h·up
        let hidden: Tensor  // [m, f] silu(gate) ⊙ up
    }

    /// Creates experts whose weights and gradients live in `weights` and
    /// `gradients`; activations are counted in `ledger` as `kind`.
    public init(weights: ModelWeights, gradients: ModelWeights, ledger: MemoryLedger?,
                kind: TensorKind = .activations) {
        self.weights = weights
        self.gradients = gradients
        self.ledger = ledger
        self.kind = kind
    }

    /// True while a training forward of some layer waits for its backward.
    public var hasPending: Bool { !pending.isEmpty }

    public func forward(layer: Int, batches: [ExpertBatch], keepForBackward: Bool) throws -> [Tensor] {
        let expertWeights = try batches.map { batch in
            guard let w = weights.layers[layer].experts[batch.expert] else {
                throw PCMoEError.invalidArgument("expert \(batch.expert) of layer \(layer) is not held here.")
            }
            return w
        }
        let results = parallelMap(batches.count) { i in expertForward(expertWeights[i], batches[i].rows) }
        if keepForBackward { pending[layer] = results.map(\.cache) }
        return results.map(\.output)
    }

    /// Runs one expert on its rows. Shapes: rows [m, d]; returns output [m, d].
    private func expertForward(_ w: ExpertWeights, _ rows: Tensor) -> (output: Tensor, cache: Cache) {
        let (m, f, d) = (rows.rows, w.gate.shape[1], w.gate.shape[0])
        let cache = Cache(input: rows, gate: Tensor([m, f], kind: kind, ledger: ledger),
                          up: Tensor([m, f], kind: kind, ledger: ledger),
                          hidden: Tensor([m, f], kind: kind, ledger: ledger))
        matmulForward(rows, w.gate, into: cache.gate)
        matmulForward(rows, w.up, into: cache.up)
        swigluForward(cache.gate, cache.up, into: cache.hidden)
        let out = Tensor([m, d], kind: kind, ledger: ledger)
        matmulForward(cache.hidden, w.down, into: out)
        return (out, cache)
    }

    public func backward(layer: Int, gradients dOut: [ExpertBatch]) throws -> [Tensor] {
        guard let caches = pending.removeValue(forKey: layer), caches.count == dOut.count else {
            throw PCMoEError.invalidArgument("no forward of layer \(layer) is waiting for this backward.")
        }
        return parallelMap(dOut.count) { i in
            let expert = dOut[i].expert
            return expertBackward(weights.layers[layer].experts[expert]!, gradients.layers[layer].experts[expert]!,
                                  caches[i], dOut[i].rows)
        }
    }

    /// Accumulates one expert's weight gradients and returns ∂L/∂rows.
    /// Shapes: dOut [m, d]; returns [m, d].
    private func expertBackward(_ w: ExpertWeights, _ g: ExpertWeights, _ cache: Cache, _ dOut: Tensor) -> Tensor {
        let (m, f) = (cache.gate.rows, cache.gate.columns)
        let dHidden = Tensor([m, f], kind: kind, ledger: ledger)
        matmulBackward(cache.hidden, w.down, dy: dOut, dw: g.down, dx: dHidden)
        let dGate = Tensor([m, f], kind: kind, ledger: ledger), dUp = Tensor([m, f], kind: kind, ledger: ledger)
        swigluBackward(ds: dHidden, cache.gate, cache.up, da: dGate, db: dUp)
        let dInput = Tensor(cache.input.shape, kind: kind, ledger: ledger)
        matmulBackward(cache.input, w.gate, dy: dGate, dw: g.gate, dx: dInput)
        matmulBackward(cache.input, w.up, dy: dUp, dw: g.up, dx: dInput, accumulateInput: true)
        return dInput
    }

    public func discardPending() {
        pending.removeAll()
    }
}
