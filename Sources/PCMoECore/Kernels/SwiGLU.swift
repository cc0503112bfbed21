import Foundation

/// s = silu(a) ⊙ b, with silu(a) = a·σ(a).
///
/// Shapes: a [M, f], b [M, f], s [M, f] (overwritten).
public func swigluForward(_ a: Tensor, _ b: Tensor, into s: Tensor) {
    precondition(a.count == b.count && a.count == s.count, "swiglu: a \(a.shape) b \(b.shape)")
    parallelRanges(a.count) { range in
        for i in range {
            let x = a.data[i]
            s.data[i] = x / (1 + exp(-x)) * b.data[i]
        }
    }
}

/// Backward of ``swigluForward(_:_:into:)``.
///
/// Shapes: ds [M, f], a [M, f], b [M, f]; da and db [M, f] (overwritten).
/// da = ds ⊙ b ⊙ σ(a)(1 + a(1 − σ(a))), db = ds ⊙ silu(a).
public func swigluBackward(ds: Tensor, _ a: Tensor, _ b: Tensor, da: Tensor, db: Tensor) {
    precondition(ds.count == a.count && da.count == a.count && db.count == a.count, "swiglu backward: a \(a.shape)")
    parallelRanges(a.count) { range in
        for i in range {
            let x = a.data[i], g = ds.data[i]
            let sig = 1 / (1 + exp(-x))
            da.data[i] = g * b.data[i] * sig * (1 + x * (1 - sig))
            db.data[i] = g * x * sig
        }
    }
}
