/// The weight of the load-balancing loss in the training loss.
public let balanceLossWeight = 0.01

/// The values the MoE backward needs from the forward of one layer.
struct MoECache {
    let input: Tensor        // [N, d] post-norm rows h
    let probs: Tensor        // [N, E] router softmax
    let routing: Routing
    let experts: [Int]       // expert of each batch, in batch order
    let outputs: [Tensor]    // expert(h) for each batch, [m, d]
    let balanceLoss: Double
}

/// MoE(h) = Σ over the token's top-k experts of weight · expert(h).
///
/// Shapes: h [N, d], router [d, E], out [N, d] (overwritten). Outputs are
/// combined token by token in slot order, so the result does not depend on
/// the order in which experts finished. Experts that `experts` does not
/// allow in this layer get probability 0 and are never picked.
func moeForward(_ h: Tensor, router: Tensor, topK: Int, layer: Int, experts: ExpertCompute,
                keepForBackward: Bool, ledger: MemoryLedger?, into out: Tensor) throws -> MoECache {
    let (n, d, e) = (h.rows, h.columns, router.shape[1])
    let probs = Tensor([n, e], ledger: ledger)
    matmulForward(h, router, into: probs)
    let allowed = experts.allowedExperts(layer: layer)
    if let allowed {
        for token in 0..<n {
            for expert in 0..<e where !allowed[expert] { probs.data[token * e + expert] = -.infinity }
        }
    }
    softmaxForward(probs)
    let routing = Routing(probs: probs, k: topK, allowed: allowed)

    var batches: [ExpertBatch] = []
    for (expert, slots) in routing.slotsOf.enumerated() where !slots.isEmpty {
        let rows = Tensor([slots.count, d], ledger: ledger)
        let positions = slots.map { $0 / Int32(topK) }
        gatherRows(h, index: positions, into: rows)
        batches.append(ExpertBatch(expert: expert, rows: rows, positions: positions))
    }
    let outputs = try experts.forward(layer: layer, batches: batches, keepForBackward: keepForBackward)

    var batchOf = [Int](repeating: -1, count: e)
    for (i, batch) in batches.enumerated() { batchOf[batch.expert] = i }
    out.zero()
    parallelRanges(n, grain: 64) { tokens in
        for slot in (tokens.lowerBound * topK)..<(tokens.upperBound * topK) {
            let y = outputs[batchOf[Int(routing.expertOf[slot])]].data + Int(routing.rowOf[slot]) * d
            let target = out.data + (slot / topK) * d, w = routing.weightOf[slot]
            for i in 0..<d { target[i] += w * y[i] }
        }
    }
    return MoECache(input: h, probs: probs, routing: routing, experts: batches.map(\.expert),
                    outputs: outputs, balanceLoss: routing.balanceLoss(probs: probs))
}

/// Backward of ``moeForward``: accumulates the router gradient and returns ∂L/∂h.
///
/// Shapes: dOut [N, d], router and dRouter [d, E]; returns [N, d].
/// `auxScale` is the weight of this layer's balance loss in the total loss.
func moeBackward(_ dOut: Tensor, cache: MoECache, router: Tensor, dRouter: Tensor, layer: Int,
                 experts: ExpertCompute, auxScale: Double, ledger: MemoryLedger?) throws -> Tensor {
    let (h, routing) = (cache.input, cache.routing)
    let (n, d, k) = (h.rows, h.columns, routing.k)
    var dWeight = [Float](repeating: 0, count: n * k)

    var gradients: [ExpertBatch] = []
    for (i, expert) in cache.experts.enumerated() {
        let slots = routing.slotsOf[expert], y = cache.outputs[i]
        let dy = Tensor(y.shape, ledger: ledger)
        for (row, slot) in slots.enumerated() {
            let g = dOut.data + Int(slot) / k * d, yr = y.data + row * d, dyr = dy.data + row * d
            let w = routing.weightOf[Int(slot)]
            var dot: Float = 0
            for j in 0..<d {
                dyr[j] = w * g[j]
                dot += g[j] * yr[j]
            }
            dWeight[Int(slot)] = dot
        }
        gradients.append(ExpertBatch(expert: expert, rows: dy))
    }
    let inputGrads = try experts.backward(layer: layer, gradients: gradients)

    let dh = Tensor(h.shape, ledger: ledger)
    for (i, expert) in cache.experts.enumerated() {
        scatterAddRows(inputGrads[i], index: routing.slotsOf[expert].map { $0 / Int32(k) }, into: dh)
    }
    let dLogits = routerProbabilityGradient(dWeight: dWeight, cache: cache, auxScale: auxScale, ledger: ledger)
    softmaxBackward(probabilities: cache.probs, gradient: dLogits)
    matmulBackward(h, router, dy: dLogits, dw: dRouter, dx: dh, accumulateInput: true)
    return dh
}

/// ∂L/∂p for the router probabilities, through the renormalised combine
/// weights w_j = p_j / S and the balance loss.
///
/// For the picked set J of a token: ∂L/∂p_j = (g_j − Σ_{i∈J} g_i w_i) / S,
/// with g the gradients of the weights; the balance loss adds
/// auxScale · E · f_e / N to every p_e. Returns [N, E].
private func routerProbabilityGradient(dWeight: [Float], cache: MoECache, auxScale: Double,
                                       ledger: MemoryLedger?) -> Tensor {
    let (probs, routing) = (cache.probs, cache.routing)
    let (n, e, k) = (probs.rows, probs.columns, routing.k)
    let dp = Tensor([n, e], ledger: ledger)
    let fractions = routing.loadFractions
    let balance = fractions.map { Float(auxScale * Double(e) * $0 / Double(n)) }
    for token in 0..<n {
        let p = probs.data + token * e, g = dp.data + token * e
        for expert in 0..<e { g[expert] = balance[expert] }
        var sum: Float = 0, weighted: Float = 0
        for j in 0..<k {
            let slot = token * k + j
            sum += p[Int(routing.expertOf[slot])]
            weighted += dWeight[slot] * routing.weightOf[slot]
        }
        for j in 0..<k {
            let slot = token * k + j
            g[Int(routing.expertOf[slot])] += (dWeight[slot] - weighted) / sum
        }
    }
    return dp
}
