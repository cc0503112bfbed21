import Foundation

/// Rotary position embedding tables for one head width and sequence length.
///
/// Rotate-half (GPT-NeoX) layout with θ = 10000: for i in 0 ..< hd/2,
/// inv_freq[i] = θ^(−2i/hd) and the angle at position t is t·inv_freq[i];
/// element i and element i + hd/2 of a head rotate together by that angle.
public struct RopeTables {
    /// The base of the frequencies.
    public static let theta = 10000.0
    let half: Int
    let sequence: Int
    let cos: [Float]  // [T, hd/2]
    let sin: [Float]  // [T, hd/2]

    /// Tables for heads of width `headDim` (even) at positions 0 ..< `sequence`.
    public init(headDim: Int, sequence: Int) {
        precondition(headDim % 2 == 0, "rope needs an even head width, got \(headDim)")
        half = headDim / 2
        self.sequence = sequence
        var c = [Float](), s = [Float]()
        for t in 0..<sequence {
            for i in 0..<half {
                let angle = Double(t) * pow(Self.theta, -2 * Double(i) / Double(headDim))
                c.append(Float(Foundation.cos(angle)))
                s.append(Float(Foundation.sin(angle)))
            }
        }
        cos = c
        sin = s
    }
}

/// Applies (forward) or undoes (backward, the transpose) the rotation in place.
///
/// Shapes: x [B·T, H·hd]; row n is position n mod T.
/// Forward: (u1, u2) → (u1·cos − u2·sin, u2·cos + u1·sin).
/// Backward: (g1, g2) → (g1·cos + g2·sin, g2·cos − g1·sin).
public func rope(_ x: Tensor, tables: RopeTables, inverse: Bool) {
    let width = x.columns, half = tables.half, heads = width / (2 * half)
    precondition(heads * 2 * half == width && x.rows % tables.sequence == 0, "rope: x \(x.shape)")
    let sign: Float = inverse ? -1 : 1
    for row in 0..<x.rows {
        let t = row % tables.sequence
        for h in 0..<heads {
            let u = x.data + row * width + h * 2 * half
            for i in 0..<half {
                let c = tables.cos[t * half + i], s = sign * tables.sin[t * half + i]
                let (u1, u2) = (u[i], u[i + half])
                u[i] = u1 * c - u2 * s
                u[i + half] = u2 * c + u1 * s
            }
        }
    }
}
