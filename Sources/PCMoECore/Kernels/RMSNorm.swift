/// The constant added to the mean square in every RMSNorm.
public let rmsNormEpsilon: Float = 1e-5

/// y = x / sqrt(mean(x²) + 1e-5) · w, row by row.
///
/// Shapes: x [N, d], w [d], y [N, d] (overwritten), rstd [N] (overwritten with
/// 1 / sqrt(mean(x²) + eps), kept for the backward pass).
public func rmsNormForward(_ x: Tensor, weight w: Tensor, into y: Tensor, rstd: Tensor) {
    let (n, d) = (x.rows, x.columns)
    precondition(w.count == d && y.count == x.count && rstd.count == n, "rmsnorm: x \(x.shape) w \(w.shape)")
    parallelRanges(n, grain: 64) { rows in
        for row in rows {
            let xr = x.data + row * d, yr = y.data + row * d
            var sum: Float = 0
            for i in 0..<d { sum += xr[i] * xr[i] }
            let r = 1 / (sum / Float(d) + rmsNormEpsilon).squareRoot()
            rstd[row] = r
            for i in 0..<d { yr[i] = xr[i] * r * w.data[i] }
        }
    }
}

/// Backward of ``rmsNormForward(_:weight:into:rstd:)``: dx += ∂L/∂x, dw += ∂L/∂w.
///
/// Shapes: dy [N, d], x [N, d], w [d], rstd [N], dx [N, d] (accumulated),
/// dw [d] (accumulated).
/// With g = dy ⊙ w: dx = r·g − r³/d · x · Σ(g ⊙ x).
public func rmsNormBackward(dy: Tensor, x: Tensor, weight w: Tensor, rstd: Tensor, dx: Tensor, dw: Tensor) {
    let (n, d) = (x.rows, x.columns)
    precondition(dy.count == x.count && dx.count == x.count && dw.count == d, "rmsnorm backward: x \(x.shape)")
    for row in 0..<n {
        let xr = x.data + row * d, gr = dy.data + row * d, dxr = dx.data + row * d
        let r = rstd[row]
        var dot: Float = 0
        for i in 0..<d {
            dot += gr[i] * w.data[i] * xr[i]
            dw.data[i] += gr[i] * xr[i] * r
        }
        let c = r * r * r * dot / Float(d)
        for i in 0..<d { dxr[i] += r * gr[i] * w.data[i] - c * xr[i] }
    }
}
