import COpenBLAS

// Every matrix product of the model goes through cblas_sgemm. Matrices are
// stored row-major and weights are [in, out], so a layer applies y = x·W.

/// C = alpha·op(A)·op(B) + beta·C on row-major pointers with leading dimensions.
///
/// Shapes: op(A) [m, k], op(B) [k, n], C [m, n]. A zero-sized product only
/// scales C by beta, as BLAS defines it.
@inline(__always)
public func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor,
                transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// y = x·W.
///
/// Shapes: x [N, in], w [in, out], y [N, out] (overwritten).
public func matmulForward(_ x: Tensor, _ w: Tensor, into y: Tensor) {
    let (n, inDim, outDim) = (x.rows, w.shape[0], w.shape[1])
    precondition(w.shape.count == 2 && x.columns == inDim, "matmul: x \(x.shape) · w \(w.shape)")
    precondition(y.rows == n && y.columns == outDim, "matmul: output \(y.shape) for x \(x.shape) · w \(w.shape)")
    sgemm(m: n, n: outDim, k: inDim, a: x.data, lda: inDim, b: w.data, ldb: outDim, c: y.data, ldc: outDim)
}

/// Backward of y = x·W: dW += xᵀ·dy, and dx (+)= dy·Wᵀ when dx is given.
///
/// Shapes: x [N, in], w [in, out], dy [N, out], dw [in, out], dx [N, in].
/// `accumulateInput` adds into dx instead of overwriting it.
public func matmulBackward(_ x: Tensor, _ w: Tensor, dy: Tensor, dw: Tensor?, dx: Tensor?,
                           accumulateInput: Bool = false) {
    let (n, inDim, outDim) = (x.rows, w.shape[0], w.shape[1])
    precondition(dy.rows == n && dy.columns == outDim, "matmul backward: dy \(dy.shape) for x \(x.shape) · w \(w.shape)")
    if let dw {
        precondition(dw.shape == w.shape, "matmul backward: dw \(dw.shape) for w \(w.shape)")
        sgemm(transA: true, m: inDim, n: outDim, k: n, a: x.data, lda: inDim, b: dy.data, ldb: outDim,
              beta: 1, c: dw.data, ldc: outDim)
    }
    if let dx {
        precondition(dx.rows == n && dx.columns == inDim, "matmul backward: dx \(dx.shape) for x \(x.shape)")
        sgemm(transB: true, m: n, n: inDim, k: outDim, a: dy.data, lda: outDim, b: w.data, ldb: outDim,
              beta: accumulateInput ? 1 : 0, c: dx.data, ldc: inDim)
    }
}

/// Sets the number of threads OpenBLAS uses for every later product,
/// clamped to 1 ... 1024.
public func setMathThreads(_ count: Int) {
    openblas_set_num_threads(Int32(min(max(1, count), 1024)))
}

/// The number of threads OpenBLAS uses now.
public var mathThreads: Int { Int(openblas_get_num_threads()) }
