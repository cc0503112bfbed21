import Foundation

/// Softmax of each row in place, in float32 with the row maximum subtracted.
///
/// Shapes: x [N, C]; only the first `valid` columns of each row take part
/// when `valid` is given (the rest are set to 0), for causal masking.
@inline(__always)
func softmaxRow(_ x: UnsafeMutablePointer<Float>, count: Int, valid: Int) {
    var maximum = -Float.infinity
    for i in 0..<valid { maximum = max(maximum, x[i]) }
    var sum: Float = 0
    for i in 0..<valid {
        let e = exp(x[i] - maximum)
        x[i] = e
        sum += e
    }
    let inv = 1 / sum
    for i in 0..<valid { x[i] *= inv }
    for i in valid..<count { x[i] = 0 }
}

/// Softmax over the last dimension, in place.
///
/// Shapes: x [N, C].
public func softmaxForward(_ x: Tensor) {
    let c = x.columns
    for row in 0..<x.rows { softmaxRow(x.data + row * c, count: c, valid: c) }
}

/// Backward of a row softmax: dx = p ⊙ (dp − Σ p ⊙ dp), written into dp.
///
/// Shapes: p [N, C] (softmax outputs), dp [N, C] (overwritten with dx).
public func softmaxBackward(probabilities p: Tensor, gradient dp: Tensor) {
    precondition(p.count == dp.count, "softmax backward: p \(p.shape) dp \(dp.shape)")
    let c = p.columns
    for row in 0..<p.rows {
        let pr = p.data + row * c, gr = dp.data + row * c
        var dot: Float = 0
        for i in 0..<c { dot += pr[i] * gr[i] }
        for i in 0..<c { gr[i] = pr[i] * (gr[i] - dot) }
    }
}
