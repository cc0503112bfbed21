/// Causal multi-head attention core: o = softmax(q·kᵀ/√hd, causal)·v per head.
///
/// Shapes: q, k, v [B·T, H·hd] (head j owns columns j·hd ..< (j+1)·hd; q and k
/// already rotated), probs [B, H, T, T] (overwritten; entries above the
/// diagonal are 0), o [B·T, H·hd] (overwritten).
public func attentionForward(q: Tensor, k: Tensor, v: Tensor, heads: Int, sequence t: Int,
                             probs: Tensor, into o: Tensor) {
    let width = q.columns, hd = width / heads, batch = q.rows / t
    precondition(k.count == q.count && v.count == q.count && o.count == q.count, "attention: q \(q.shape)")
    precondition(probs.count == batch * heads * t * t, "attention: probs \(probs.shape)")
    let scale = 1 / Float(hd).squareRoot()
    // Heads are independent: each (sequence, head) pair runs whole on one
    // thread, which suits these small matrices.
    parallelRanges(batch * heads, grain: 1) { pairs in
        for pair in pairs {
            let (b, h) = (pair / heads, pair % heads)
            let offset = b * t * width + h * hd
            let p = probs.data + pair * t * t
            sgemm(transB: true, m: t, n: t, k: hd, alpha: scale, a: q.data + offset, lda: width,
                  b: k.data + offset, ldb: width, c: p, ldc: t)
            for i in 0..<t { softmaxRow(p + i * t, count: t, valid: i + 1) }
            sgemm(m: t, n: hd, k: t, a: p, lda: t, b: v.data + offset, ldb: width,
                  c: o.data + offset, ldc: width)
        }
    }
}

/// Backward of ``attentionForward(q:k:v:heads:sequence:probs:into:)``.
///
/// Shapes: dO, q, k, v [B·T, H·hd], probs [B, H, T, T]; dq, dk, dv [B·T, H·hd]
/// (overwritten). With dP = dO·vᵀ: dv = Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)),
/// dq = dS·k/√hd, dk = dSᵀ·q/√hd.
public func attentionBackward(dO: Tensor, q: Tensor, k: Tensor, v: Tensor, heads: Int, sequence t: Int,
                              probs: Tensor, dq: Tensor, dk: Tensor, dv: Tensor, ledger: MemoryLedger? = nil) {
    let width = q.columns, hd = width / heads, batch = q.rows / t
    precondition(dO.count == q.count && dq.count == q.count && dk.count == q.count && dv.count == q.count,
                 "attention backward: q \(q.shape)")
    let scale = 1 / Float(hd).squareRoot()
    parallelRanges(batch * heads, grain: 1) { pairs in
        let dP = Tensor([t, t], ledger: ledger)
        for pair in pairs {
            let (b, h) = (pair / heads, pair % heads)
            let offset = b * t * width + h * hd
            let p = probs.data + pair * t * t
            sgemm(transB: true, m: t, n: t, k: hd, a: dO.data + offset, lda: width,
                  b: v.data + offset, ldb: width, c: dP.data, ldc: t)
            sgemm(transA: true, m: t, n: hd, k: t, a: p, lda: t, b: dO.data + offset, ldb: width,
                  c: dv.data + offset, ldc: width)
            softmaxBackwardCausal(p, dP.data, t)
            sgemm(m: t, n: hd, k: t, alpha: scale, a: dP.data, lda: t, b: k.data + offset, ldb: width,
                  c: dq.data + offset, ldc: width)
            sgemm(transA: true, m: t, n: hd, k: t, alpha: scale, a: dP.data, lda: t, b: q.data + offset,
                  ldb: width, c: dk.data + offset, ldc: width)
        }
    }
}

/// dS = P ⊙ (dP − rowsum(P ⊙ dP)) in place of dP, zero above the diagonal.
///
/// Shapes: p and dP [T, T].
@inline(__always)
private func softmaxBackwardCausal(_ p: UnsafeMutablePointer<Float>, _ dP: UnsafeMutablePointer<Float>, _ t: Int) {
    for i in 0..<t {
        let pr = p + i * t, gr = dP + i * t
        var dot: Float = 0
        for j in 0...i { dot += pr[j] * gr[j] }
        for j in 0...i { gr[j] = pr[j] * (gr[j] - dot) }
        for j in (i + 1)..<t { gr[j] = 0 }
    }
}
