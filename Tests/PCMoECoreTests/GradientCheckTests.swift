import Testing
@testable import PCMoECore

/// Compares the hand-written gradient of each parameter tensor with a central
/// finite difference of the full training loss along a random direction u:
/// (L(θ + εu) − L(θ − εu)) / 2ε against Σ g·u.
struct GradientCheck {
    let model: MoEModel
    let tokens: [UInt8]
    let batch = 2

    init(config: ModelConfig) throws {
        model = try MoEModel(config: config, seed: 7)
        scaleMatrices(model.weights, by: 8)
        tokens = randomTokens(config, batch: batch, seed: 11)
        let pass = try model.forward(tokens: tokens, batch: batch, training: true)
        try model.backward(pass)
    }

    func loss() throws -> Double {
        try model.forward(tokens: tokens, batch: batch, training: false).loss
    }

    /// Returns (analytic, numeric) directional derivatives for tensor `name`.
    func directional(_ name: String, epsilon: Float = 1e-3) throws -> (Double, Double) {
        let p = model.weights.named.first { $0.name == name }!.tensor
        let g = model.gradients.named.first { $0.name == name }!.tensor
        var rng = SplitMix64(seed: 3, label: name)
        let u = (0..<p.count).map { _ in Float(rng.nextNormal()) }
        var analytic = 0.0
        for i in 0..<p.count { analytic += Double(g[i]) * Double(u[i]) }

        let saved = p.values
        for i in 0..<p.count { p[i] = saved[i] + epsilon * u[i] }
        let plus = try loss()
        for i in 0..<p.count { p[i] = saved[i] - epsilon * u[i] }
        let minus = try loss()
        for i in 0..<p.count { p[i] = saved[i] }
        return (analytic, (plus - minus) / (2 * Double(epsilon)))
    }
}

func relativeError(_ a: Double, _ b: Double) -> Double {
    abs(a - b) / max(abs(a), abs(b), 1e-6)
}

let checkedTensors = [
    "tok_emb", "layers.0.attn_norm.weight", "layers.0.attn.wq", "layers.0.attn.wk", "layers.0.attn.wv",
    "layers.0.attn.wo", "layers.0.moe_norm.weight", "layers.0.moe.router", "layers.0.moe.experts.1.gate",
    "layers.0.moe.experts.1.up", "layers.0.moe.experts.1.down", "layers.1.attn.wq", "layers.1.moe.router",
    "layers.1.moe.experts.2.down", "final_norm.weight", "lm_head",
]

@Test(arguments: checkedTensors)
func gradientMatchesFiniteDifference(name: String) throws {
    let check = try GradientCheck(config: tinyConfig())
    let (analytic, numeric) = try check.directional(name)
    let tolerance = 2e-2
    #expect(abs(analytic) > 1e-4, "the gradient of \(name) is too small to check")
    #expect(relativeError(analytic, numeric) < tolerance, "\(name): analytic \(analytic), numeric \(numeric)")
    // The tolerance must reject a gradient that is 10 % off.
    #expect(relativeError(analytic * 1.1, numeric) > tolerance, "\(name): tolerance too loose")
}
