import Foundation

/// Mean cross-entropy of next-byte predictions, and its gradient.
///
/// Shapes: logits [N, V], targets [N] (values in 0 ..< V), dlogits [N, V]
/// (overwritten with ∂(scale · mean CE)/∂logits = scale · (softmax − onehot) / N),
/// or nil when no gradient is needed. Returns the mean CE in nats; the sum is
/// kept in Double.
public func crossEntropy(logits: Tensor, targets: [UInt8], dlogits: Tensor?, scale: Float = 1) -> Double {
    let (n, v) = (logits.rows, logits.columns)
    precondition(targets.count == n, "cross-entropy: logits \(logits.shape) for \(targets.count) targets")
    var total = 0.0
    let probs = dlogits ?? Tensor([v])
    for row in 0..<n {
        let src = logits.data + row * v
        let p = dlogits == nil ? probs.data : probs.data + row * v
        p.update(from: src, count: v)
        var maximum = -Float.infinity
        for i in 0..<v { maximum = max(maximum, p[i]) }
        var sum = 0.0
        for i in 0..<v { sum += Double(exp(p[i] - maximum)) }
        let target = Int(targets[row])
        total += log(sum) - Double(p[target] - maximum)
        guard dlogits != nil else { continue }
        let g = scale / Float(n), inv = Float(1 / sum)
        for i in 0..<v { p[i] = exp(p[i] - maximum) * inv * g }
        p[target] -= g
    }
    return total / Double(n)
}
