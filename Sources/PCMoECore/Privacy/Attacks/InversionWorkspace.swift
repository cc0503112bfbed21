/// The activations and their gradients for one batch of an ``InversionModel``.
final class InversionWorkspace {
    let rows: Int
    /// Standardized rows, [rows, dimension].
    let input: Tensor
    /// x·W₁ + b₁ and its ReLU, [rows, hiddenWidth], or nil without a hidden layer.
    let preActivation: Tensor?
    let activation: Tensor?
    /// [rows, 256].
    let logits: Tensor
    /// ∂loss/∂logits, [rows, 256].
    let logitGradient: Tensor
    /// ∂loss/∂activation, [rows, hiddenWidth], or nil without a hidden layer.
    let activationGradient: Tensor?

    init(rows: Int, dimension: Int, hiddenWidth: Int) {
        self.rows = rows
        input = Tensor([rows, dimension])
        preActivation = hiddenWidth > 0 ? Tensor([rows, hiddenWidth]) : nil
        activation = hiddenWidth > 0 ? Tensor([rows, hiddenWidth]) : nil
        activationGradient = hiddenWidth > 0 ? Tensor([rows, hiddenWidth]) : nil
        logits = Tensor([rows, 256])
        logitGradient = Tensor([rows, 256])
    }

    /// Copies the contiguous rows `range` of a row-major matrix into `input`.
    func load(_ matrix: [Float], rows range: Range<Int>) {
        let dimension = input.columns
        matrix.withUnsafeBufferPointer { source in
            input.data.update(from: source.baseAddress! + range.lowerBound * dimension, count: range.count * dimension)
        }
    }

    /// Copies the rows at `indices` of a row-major matrix into `input`, in order.
    func gather(_ matrix: [Float], rows indices: ArraySlice<Int>) {
        let dimension = input.columns
        matrix.withUnsafeBufferPointer { source in
            for (slot, row) in indices.enumerated() {
                (input.data + slot * dimension).update(from: source.baseAddress! + row * dimension, count: dimension)
            }
        }
    }

    /// Returns the index of the largest logit of each row, the lower index on a tie.
    func argmaxLogits() -> [UInt8] {
        (0..<rows).map { row in
            let values = logits.data + row * 256
            var best = 0
            for j in 1..<256 where values[j] > values[best] { best = j }
            return UInt8(best)
        }
    }
}
