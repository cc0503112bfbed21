/// Per-feature standardization x ↦ (x − mean) / std, with the mean and
/// standard deviation of each feature fitted on training rows.
struct FeatureStandardizer {
    let means: [Float]
    /// 1 / std per feature, or 1 for a feature whose std is below 1e-6, so
    /// that a constant feature maps to 0 instead of dividing by zero.
    let inverseDeviations: [Float]

    /// Fits the statistics of a row-major [count, dimension] matrix, summing in Double.
    init(rows: UnsafePointer<Float>, count: Int, dimension: Int) {
        var sums = [Double](repeating: 0, count: dimension)
        var squares = [Double](repeating: 0, count: dimension)
        for row in 0..<count {
            let values = rows + row * dimension
            for j in 0..<dimension {
                let value = Double(values[j])
                sums[j] += value
                squares[j] += value * value
            }
        }
        let n = Double(max(count, 1))
        means = sums.map { Float($0 / n) }
        inverseDeviations = (0..<dimension).map { j in
            let mean = sums[j] / n
            let deviation = max(squares[j] / n - mean * mean, 0).squareRoot()
            return deviation < 1e-6 ? 1 : Float(1 / deviation)
        }
    }

    /// Writes the standardized rows of `rows` into `output`, both [count, dimension].
    func apply(_ rows: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
        let dimension = means.count
        for row in 0..<count {
            let (source, target) = (rows + row * dimension, output + row * dimension)
            for j in 0..<dimension { target[j] = (source[j] - means[j]) * inverseDeviations[j] }
        }
    }
}
