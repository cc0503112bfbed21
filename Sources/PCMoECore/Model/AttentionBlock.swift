/// The values the attention backward needs from the forward of one layer.
struct AttentionCache {
    let input: Tensor  // [N, d] post-norm rows h
    let q: Tensor      // [N, d] after rotation
    let k: Tensor      // [N, d] after rotation
    let v: Tensor      // [N, d]
    let probs: Tensor  // [B, H, T, T]
    let mixed: Tensor  // [N, d] heads concatenated, before wo
}

/// Attn(h) = concat_heads(softmax(rope(h·Wq)·rope(h·Wk)ᵀ/√hd, causal)·(h·Wv))·Wo.
///
/// Shapes: h [N, d] with N = B·T; out [N, d] (overwritten).
func attentionBlockForward(_ h: Tensor, layer w: LayerWeights, heads: Int, rope tables: RopeTables,
                           ledger: MemoryLedger?, into out: Tensor) -> AttentionCache {
    let (n, d, t) = (h.rows, h.columns, tables.sequence)
    let q = Tensor([n, d], ledger: ledger), k = Tensor([n, d], ledger: ledger), v = Tensor([n, d], ledger: ledger)
    matmulForward(h, w.wq, into: q)
    matmulForward(h, w.wk, into: k)
    matmulForward(h, w.wv, into: v)
    rope(q, tables: tables, inverse: false)
    rope(k, tables: tables, inverse: false)

    let probs = Tensor([n / t, heads, t, t], ledger: ledger)
    let mixed = Tensor([n, d], ledger: ledger)
    attentionForward(q: q, k: k, v: v, heads: heads, sequence: t, probs: probs, into: mixed)
    matmulForward(mixed, w.wo, into: out)
    return AttentionCache(input: h, q: q, k: k, v: v, probs: probs, mixed: mixed)
}

/// Backward of ``attentionBlockForward``: accumulates the four projection
/// gradients into `g` and returns ∂L/∂h.
///
/// Shapes: dOut [N, d]; returns [N, d].
func attentionBlockBackward(_ dOut: Tensor, cache c: AttentionCache, layer w: LayerWeights, grads g: LayerWeights,
                            heads: Int, rope tables: RopeTables, ledger: MemoryLedger?) -> Tensor {
    let shape = c.input.shape
    let dMixed = Tensor(shape, ledger: ledger)
    matmulBackward(c.mixed, w.wo, dy: dOut, dw: g.wo, dx: dMixed)

    let dq = Tensor(shape, ledger: ledger), dk = Tensor(shape, ledger: ledger), dv = Tensor(shape, ledger: ledger)
    attentionBackward(dO: dMixed, q: c.q, k: c.k, v: c.v, heads: heads, sequence: tables.sequence,
                      probs: c.probs, dq: dq, dk: dk, dv: dv, ledger: ledger)
    rope(dq, tables: tables, inverse: true)
    rope(dk, tables: tables, inverse: true)

    let dh = Tensor(shape, ledger: ledger)
    matmulBackward(c.input, w.wq, dy: dq, dw: g.wq, dx: dh)
    matmulBackward(c.input, w.wk, dy: dk, dw: g.wk, dx: dh, accumulateInput: true)
    matmulBackward(c.input, w.wv, dy: dv, dw: g.wv, dx: dh, accumulateInput: true)
    return dh
}
