import Foundation

/// Greedy k-means++ seeding over a row-major [count, dimension] matrix.
///
/// The first centroid is a uniform pick among the rows. Each further one is
/// the best of 2 + ⌊ln k⌋ candidates, each drawn with probability
/// proportional to its squared distance from the nearest centroid so far.
/// The best candidate is the one that leaves the smallest sum of those squared distances.
/// Plain k-means++ can place two centroids in one large cluster while a small
/// cluster gets none, and the extra candidates make that rarer.
struct KMeansSeeding {
    private let rows: [Float]
    private let rowNorms: [Float]
    private let count: Int
    private let dimension: Int

    init(rows: [Float], dimension: Int) {
        self.rows = rows
        self.dimension = dimension
        count = rows.count / dimension
        rowNorms = rows.withUnsafeBufferPointer {
            squaredRowNorms($0.baseAddress!, count: rows.count / dimension, dimension: dimension)
        }
    }

    /// Returns `clusters` centroids, row-major [clusters, dimension], each a copy of one row.
    /// - Precondition: 1 ≤ `clusters` ≤ the row count.
    func centroids(clusters: Int, using generator: inout SplitMix64) -> [Float] {
        precondition(clusters >= 1 && clusters <= count, "k-means++: \(clusters) clusters for \(count) rows")
        let candidateCount = 2 + Int(log(Double(clusters)))
        var picks = [Int(generator.next() % UInt64(count))]
        var nearest = squaredDistances(toRows: picks)
        nearest[picks[0]] = 0
        while picks.count < clusters {
            let candidates = sampleBySquaredDistance(nearest, count: candidateCount, &generator)
            let distances = squaredDistances(toRows: candidates)
            var best = (candidate: 0, potential: Double.infinity)
            for c in candidates.indices {
                var potential = 0.0
                for i in 0..<count { potential += Double(min(nearest[i], distances[i * candidates.count + c])) }
                if potential < best.potential { best = (c, potential) }
            }
            for i in 0..<count { nearest[i] = min(nearest[i], distances[i * candidates.count + best.candidate]) }
            nearest[candidates[best.candidate]] = 0
            picks.append(candidates[best.candidate])
        }
        return picks.flatMap { rows[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    /// Returns the squared distance of every row to each row of `picks`, as a
    /// row-major [count, picks.count] matrix.
    private func squaredDistances(toRows picks: [Int]) -> [Float] {
        let picked = picks.flatMap { rows[($0 * dimension)..<(($0 + 1) * dimension)] }
        let pickedNorms = picks.map { rowNorms[$0] }
        var distances = [Float](repeating: 0, count: count * picks.count)
        rows.withUnsafeBufferPointer { rows in
            picked.withUnsafeBufferPointer { picked in
                distances.withUnsafeMutableBufferPointer { output in
                    sgemm(transB: true, m: count, n: picks.count, k: dimension, a: rows.baseAddress!, lda: dimension,
                          b: picked.baseAddress!, ldb: dimension, c: output.baseAddress!, ldc: picks.count)
                    for i in 0..<count {
                        for c in picks.indices {
                            let index = i * picks.count + c
                            output[index] = max(0, rowNorms[i] - 2 * output[index] + pickedNorms[c])
                        }
                    }
                }
            }
        }
        return distances
    }
}

/// Draws `count` indices, with replacement, each with probability
/// proportional to `weights`, or uniformly when every weight is zero.
private func sampleBySquaredDistance(_ weights: [Float], count: Int, _ generator: inout SplitMix64) -> [Int] {
    var cumulative = [Double](repeating: 0, count: weights.count)
    var total = 0.0
    for (i, weight) in weights.enumerated() {
        total += Double(weight)
        cumulative[i] = total
    }
    guard total > 0 else { return (0..<count).map { _ in Int(generator.next() % UInt64(weights.count)) } }
    return (0..<count).map { _ in
        // The first index whose cumulative weight exceeds the target; it has a positive weight.
        let target = generator.nextUnit() * total
        var (low, high) = (0, weights.count - 1)
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
