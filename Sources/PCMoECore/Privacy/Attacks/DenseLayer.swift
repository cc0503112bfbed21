/// A fully connected layer y = x·W + b with its gradients, for the small
/// classifiers of the attacks.
final class DenseLayer {
    /// W, [inputs, outputs].
    let weight: Tensor
    /// b, [outputs].
    let bias: Tensor
    let weightGradient: Tensor
    let biasGradient: Tensor
    let name: String

    /// Creates a layer with W drawn from normal(0, std) and b = 0. The
    /// weights come from the stream labelled with the layer's name under `seed`.
    init(name: String, inputs: Int, outputs: Int, std: Double, seed: UInt64) {
        self.name = name
        weight = Tensor([inputs, outputs])
        bias = Tensor([outputs])
        weightGradient = Tensor([inputs, outputs])
        biasGradient = Tensor([outputs])
        var generator = SplitMix64(seed: seed, label: name + ".weight")
        for i in 0..<weight.count { weight[i] = Float(generator.nextNormal(std: std)) }
    }

    var parameters: [NamedTensor] { [(name + ".weight", weight), (name + ".bias", bias)] }
    var gradients: [Tensor] { [weightGradient, biasGradient] }

    /// Computes y = x·W + b. Shapes: x [N, inputs], y [N, outputs].
    func forward(_ x: Tensor, into y: Tensor) {
        matmulForward(x, weight, into: y)
        let outputs = bias.count
        for row in 0..<y.rows {
            let values = y.data + row * outputs
            for j in 0..<outputs { values[j] += bias[j] }
        }
    }

    /// Sets the gradients of W and b from dy, and writes dx = dy·Wᵀ when given.
    func backward(_ x: Tensor, dy: Tensor, dx: Tensor?) {
        weightGradient.zero()
        matmulBackward(x, weight, dy: dy, dw: weightGradient, dx: dx)
        biasGradient.zero()
        let outputs = bias.count
        for row in 0..<dy.rows {
            let values = dy.data + row * outputs
            for j in 0..<outputs { biasGradient[j] += values[j] }
        }
    }
}
