/// The top-k choice of every token at one MoE layer and its combine weights.
///
/// Slots are numbered token·k + j, where j = 0 is the token's highest router
/// probability. Ties go to the lower expert index.
public struct Routing {
    /// Experts picked per token, k.
    public let k: Int
    /// Expert of each slot, [N·k].
    public let expertOf: [Int32]
    /// Combine weight of each slot: its probability over the sum of the token's k picked ones, [N·k].
    public let weightOf: [Float]
    /// For each expert, the slots routed to it in increasing order.
    public let slotsOf: [[Int32]]
    /// Row of each slot within its expert's batch, [N·k].
    public let rowOf: [Int32]

    /// Picks the top-k experts of every row of `probs`, among the experts
    /// whose `allowed` flag is true when flags are given.
    ///
    /// Shapes: probs [N, E] (router softmax outputs).
    /// - Precondition: at least `k` experts are allowed.
    public init(probs: Tensor, k: Int, allowed: [Bool]? = nil) {
        let (n, e) = (probs.rows, probs.columns)
        var expertOf = [Int32](repeating: 0, count: n * k)
        var weightOf = [Float](repeating: 0, count: n * k)
        var slotsOf = [[Int32]](repeating: [], count: e)
        var rowOf = [Int32](repeating: 0, count: n * k)
        // An expert that may not be picked counts as picked already.
        let barred = allowed.map { $0.map { !$0 } } ?? [Bool](repeating: false, count: e)
        precondition(barred.count == e && barred.filter { !$0 }.count >= k, "routing: fewer than \(k) allowed experts")
        var picked = barred

        for token in 0..<n {
            let p = probs.data + token * e
            var sum: Float = 0
            for j in 0..<k {
                var best = -1
                for candidate in 0..<e where !picked[candidate] {
                    if best < 0 || p[candidate] > p[best] { best = candidate }
                }
                picked[best] = true
                let slot = token * k + j
                expertOf[slot] = Int32(best)
                rowOf[slot] = Int32(slotsOf[best].count)
                slotsOf[best].append(Int32(slot))
                sum += p[best]
            }

            for j in 0..<k {
                let expert = Int(expertOf[token * k + j])
                weightOf[token * k + j] = p[expert] / sum
                picked[expert] = barred[expert]
            }
        }
        self.k = k
        self.expertOf = expertOf
        self.weightOf = weightOf
        self.slotsOf = slotsOf
        self.rowOf = rowOf
    }

    /// The share f_e of all N·k slots that went to each expert.
    public var loadFractions: [Double] {
        let total = Double(expertOf.count)
        return slotsOf.map { Double($0.count) / total }
    }

    /// Computes the load-balancing loss E · Σ_e f_e · P_e, with P_e the mean router
    /// probability of expert e over the N tokens.
    ///
    /// Shapes: probs [N, E].
    public func balanceLoss(probs: Tensor) -> Double {
        let (n, e) = (probs.rows, probs.columns)
        let f = loadFractions
        var loss = 0.0
        for expert in 0..<e {
            var mean = 0.0
            for token in 0..<n { mean += Double(probs.data[token * e + expert]) }
            loss += f[expert] * mean / Double(n)
        }
        return Double(e) * loss
    }
}
