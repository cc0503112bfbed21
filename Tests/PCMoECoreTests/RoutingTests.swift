import Testing
@testable import PCMoECore

/// Builds an [N, E] probability tensor from rows of values.
func probabilities(_ rows: [[Float]]) -> Tensor {
    Tensor([rows.count, rows[0].count], values: rows.flatMap { $0 })
}

@Test func routingTiesGoToLowerIndex() {
    let r = Routing(probs: probabilities([[0.3, 0.3, 0.3, 0.1]]), k: 2)
    #expect(r.expertOf == [0, 1])
    #expect(r.weightOf == [0.5, 0.5])
}

@Test func routingPicksDescendingAndRenormalises() {
    let r = Routing(probs: probabilities([[0.1, 0.2, 0.6, 0.1], [0.5, 0.1, 0.1, 0.3]]), k: 2)
    #expect(r.expertOf == [2, 1, 0, 3])
    #expect(abs(r.weightOf[0] - 0.75) < 1e-6)
    #expect(abs(r.weightOf[1] - 0.25) < 1e-6)
    #expect(abs(r.weightOf[2] - 0.625) < 1e-6)
    #expect(r.slotsOf == [[2], [1], [0], [3]])
    #expect(r.rowOf == [0, 0, 0, 0])
}

@Test func routingAllTokensToOneExpert() {
    let r = Routing(probs: probabilities([[0.7, 0.1, 0.1, 0.1], [0.9, 0.05, 0.03, 0.02], [0.4, 0.3, 0.2, 0.1]]), k: 1)
    #expect(r.expertOf == [0, 0, 0])
    #expect(r.weightOf == [1, 1, 1])
    #expect(r.slotsOf[0] == [0, 1, 2])
    #expect(r.rowOf == [0, 1, 2])
    #expect(r.slotsOf[1].isEmpty)
    #expect(r.slotsOf[2].isEmpty)
    #expect(r.slotsOf[3].isEmpty)
    #expect(r.loadFractions == [1, 0, 0, 0])
}

@Test func routingWithKEqualToExperts() {
    let r = Routing(probs: probabilities([[0.1, 0.4, 0.2, 0.3]]), k: 4)
    #expect(r.expertOf == [1, 3, 2, 0])
    #expect(abs(r.weightOf.reduce(0, +) - 1) < 1e-6)
    #expect(abs(r.weightOf[0] - 0.4) < 1e-6)
}

@Test func balanceLossHandComputed() {
    // Two tokens, three experts, k = 1.
    // Picks: token 0 → expert 0, token 1 → expert 2; f = (1/2, 0, 1/2).
    // P = mean probabilities = ((0.5+0.2)/2, (0.3+0.1)/2, (0.2+0.7)/2) = (0.35, 0.2, 0.45).
    // aux = E · Σ f·P = 3 · (0.5·0.35 + 0 + 0.5·0.45) = 1.2.
    let probs = probabilities([[0.5, 0.3, 0.2], [0.2, 0.1, 0.7]])
    let r = Routing(probs: probs, k: 1)
    #expect(r.loadFractions == [0.5, 0, 0.5])
    #expect(abs(r.balanceLoss(probs: probs) - 1.2) < 1e-6)
}

@Test func balanceLossIsOneWhenUniform() {
    // Uniform probabilities and perfectly even load give aux = 1.
    let probs = probabilities([[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]])
    let r = Routing(probs: probs, k: 2)
    #expect(abs(r.balanceLoss(probs: probs) - 1) < 1e-6)
}

@Test(arguments: [1, 4])
func gradientsHoldForTopK(k: Int) throws {
    let check = try GradientCheck(config: tinyConfig(experts: 4, topK: k))
    for name in ["layers.0.moe.router", "layers.1.moe.experts.0.up", "layers.0.attn.wv"] {
        let (analytic, numeric) = try check.directional(name)
        #expect(relativeError(analytic, numeric) < 2e-2, "\(name) with k = \(k): \(analytic) vs \(numeric)")
    }
}

@Test func expertWithoutRowsIsStillStepped() throws {
    // A zero router gives every expert the same logit, and the tie rule then
    // sends every token of layer 0 to expert 0 when k = 1.
    let config = tinyConfig(experts: 4, topK: 1)
    let model = try MoEModel(config: config, seed: 3)
    model.weights.layers[0].router.zero()
    let pass = try model.forward(tokens: randomTokens(config, batch: 2, seed: 1), batch: 2, training: true)
    try model.backward(pass)
    let idle = model.gradients.layers[0].experts[3]!
    #expect(idle.gate.values.allSatisfy { $0 == 0 }, "an expert without rows must get a zero gradient")

    let before = model.weights.layers[0].experts[3]!.gate.values
    let optimizer = AdamW(parameters: model.weights, gradients: model.gradients, ledger: nil)
    optimizer.step(rate: 0.1)
    let after = model.weights.layers[0].experts[3]!.gate.values
    // Weight decay still shrinks every weight: p ← p · (1 − 0.1 · 0.1).
    for (b, a) in zip(before, after) {
        #expect(abs(a - b * 0.99) <= 1e-7 * max(1, abs(b)))
    }
}
