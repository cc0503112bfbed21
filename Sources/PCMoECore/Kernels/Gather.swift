/// out[i] = src[index[i]]: the rows routed to one expert, or embedding rows.
///
/// Shapes: src [R, d], index [M] (values in 0 ..< R), out [M, d] (overwritten).
public func gatherRows(_ src: Tensor, index: [Int32], into out: Tensor) {
    let d = src.columns
    precondition(out.columns == d && out.rows == index.count, "gather: src \(src.shape) out \(out.shape)")
    for (i, r) in index.enumerated() {
        (out.data + i * d).update(from: src.data + Int(r) * d, count: d)
    }
}

/// dst[index[i]] += scale[i] · src[i]: the backward of ``gatherRows(_:index:into:)``.
///
/// Shapes: src [M, d], index [M], dst [R, d] (accumulated), scale [M] or nil for 1.
/// Rows are added in index order, so the result does not depend on threads.
public func scatterAddRows(_ src: Tensor, index: [Int32], scale: [Float]? = nil, into dst: Tensor) {
    let d = src.columns
    precondition(dst.columns == d && src.rows == index.count, "scatter: src \(src.shape) dst \(dst.shape)")
    for (i, r) in index.enumerated() {
        let s = src.data + i * d, t = dst.data + Int(r) * d
        let w = scale?[i] ?? 1
        for j in 0..<d { t[j] += w * s[j] }
    }
}
