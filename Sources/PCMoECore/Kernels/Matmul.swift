import COpenBLAS

// Every matrix product of the model goes through cblas_sgemm. Matrices are
// stored row-major and weights are [in, out], so a layer applies y = x·W.

/// C = alpha·op(A)·op(B) + beta·C on row-major pointers with leading dimensions.
///
/// Shapes: op(A) [m, k], op(B) [k, n], C [m, n]. The product is cut into
/// blocks of rows of C (or of columns, when C is wider than tall) whose size
/// depends only on the shape, and the blocks run on the math threads, each
/// as one single-threaded cblas_sgemm. OpenBLAS's results depend on the
/// shape of each call, so fixing the blocks by shape keeps the bits the same
/// whatever the thread count and whatever else runs in the process. A
/// zero-sized product only scales C by beta, as BLAS defines it.
public func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    ensureSingleThreadedBLAS()
    let byRows = m >= n
    let (length, other) = byRows ? (m, n) : (n, m)
    let block = blockLength(other: other, k: k)
    let blocks = (length + block - 1) / block
    parallelRanges(blocks, grain: 1) { range in
        for index in range {
            let start = index * block, size = min(block, length - start)
            if byRows {
                // Row r of op(A) starts at a + r·lda, or at column r when A is transposed.
                let aStart = transA ? a + start : a + start * lda
                cblasProduct(transA, transB, size, n, k, alpha, aStart, lda, b, ldb, beta, c + start * ldc, ldc)
            } else {
                // Column j of op(B) starts at b + j, or at row j when B is transposed.
                let bStart = transB ? b + start * ldb : b + start
                cblasProduct(transA, transB, m, size, k, alpha, a, lda, bStart, ldb, beta, c + start, ldc)
            }
        }
    }
}

/// Returns the rows (or columns) of C per block: enough for about 2²² multiply-adds
/// and at least 64, so that packing the shared operand stays cheap.
@inline(__always)
private func blockLength(other: Int, k: Int) -> Int {
    let target = (1 << 22) / max(other * k, 1)
    return max(64, (target + 63) / 64 * 64)
}

@inline(__always)
private func cblasProduct(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                          _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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

