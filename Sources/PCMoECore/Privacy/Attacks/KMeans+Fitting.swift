/// Lloyd iterations and centroid swaps over one set of rows, from given
/// centroids, and the fit that chains them after seeding.
struct LloydFit {
    private(set) var centroids: [Float]
    private(set) var assignments: [Int] = []
    private(set) var inertia = 0.0
    private(set) var iterations = 0
    private(set) var swaps = 0

    private let rows: UnsafePointer<Float>
    private let rowNorms: [Float]
    private let count: Int
    private let dimension: Int
    private let clusters: Int

    /// Fits k-means to a row-major [count, dimension] matrix in four steps.
    /// 1. Greedy k-means++ picks centroids from a uniform sample of
    ///    `options.seedingRowsPerCluster` rows per cluster.
    /// 2. When the sample is smaller than the input, Lloyd iterations run on
    ///    the sample first, which is cheap and brings the centroids close.
    /// 3. Lloyd iterations and swaps run on all rows.
    /// 4. A last assignment step sets the assignments and the inertia.
    static func fit(rows: UnsafePointer<Float>, count: Int, dimension: Int, options: KMeansOptions) -> LloydFit {
        let clusters = min(options.clusters, count)
        var generator = SplitMix64(seed: options.seed, label: "kmeans++")
        let sample = uniformSample(rows: rows, count: count, dimension: dimension,
                                   size: min(count, clusters * options.seedingRowsPerCluster), using: &generator)
        var centroids = KMeansSeeding(rows: sample, dimension: dimension).centroids(clusters: clusters, using: &generator)
        if sample.count < count * dimension {
            sample.withUnsafeBufferPointer { sample in
                var prefit = LloydFit(rows: sample.baseAddress!, count: sample.count / dimension, dimension: dimension,
                                      centroids: centroids)
                prefit.runLloyd(options)
                centroids = prefit.centroids
            }
        }

        var fit = LloydFit(rows: rows, count: count, dimension: dimension, centroids: centroids)
        fit.runLloyd(options)
        while fit.swaps < options.maxSwaps, fit.swapCentroidToFarthestRow() {
            fit.swaps += 1
            fit.runLloyd(options)
        }
        let final = fit.nearestToCentroids()
        fit.assignments = final.indices
        fit.inertia = final.distances.reduce(0.0) { $0 + Double($1) }
        return fit
    }

    private init(rows: UnsafePointer<Float>, count: Int, dimension: Int, centroids: [Float]) {
        self.rows = rows
        self.count = count
        self.dimension = dimension
        self.centroids = centroids
        clusters = centroids.count / dimension
        rowNorms = squaredRowNorms(rows, count: count, dimension: dimension)
    }

    /// Alternates assignment and centroid update until one iteration lowers
    /// the inertia by less than `options.tolerance` of it, or for at most
    /// `options.maxIterations` iterations in this run.
    private mutating func runLloyd(_ options: KMeansOptions) {
        var previousInertia = Double.infinity
        for _ in 0..<options.maxIterations {
            let nearest = nearestToCentroids()
            iterations += 1
            let inertia = nearest.distances.reduce(0.0) { $0 + Double($1) }
            updateCentroids(indices: nearest.indices, distances: nearest.distances)
            if previousInertia - inertia <= options.tolerance * inertia { return }
            previousInertia = inertia
        }
    }

    /// Moves one centroid onto the row farthest from its own centroid when
    /// that lowers the inertia by more than the mean squared distance of one
    /// row, and returns whether it did.
    ///
    /// Removing centroid j costs Σ over its rows of (second-nearest −
    /// nearest squared distance), because those rows fall back to their
    /// second-nearest centroid. A centroid placed on row p gains at least
    /// p's squared distance. The cheapest centroid other than p's own moves
    /// when that gain exceeds its cost by the margin. This repairs what Lloyd
    /// iterations cannot: two centroids sharing one large cluster while two
    /// small clusters share one centroid. The margin keeps data without such
    /// structure, where swaps gain little, from paying for more iterations.
    private mutating func swapCentroidToFarthestRow() -> Bool {
        guard clusters > 1 else { return false }
        let nearest = nearestToCentroids()
        var removalCosts = [Double](repeating: 0, count: clusters)
        for i in 0..<count {
            removalCosts[nearest.indices[i]] += Double(nearest.secondDistances[i] - nearest.distances[i])
        }
        let farthest = nearest.distances.indices.max { nearest.distances[$0] < nearest.distances[$1] }!
        let candidates = (0..<clusters).filter { $0 != nearest.indices[farthest] }
        let cheapest = candidates.min { removalCosts[$0] < removalCosts[$1] }!
        let margin = nearest.distances.reduce(0.0) { $0 + Double($1) } / Double(count)
        guard Double(nearest.distances[farthest]) > removalCosts[cheapest] + margin else { return false }
        copyRow(farthest, toCentroid: cheapest)
        return true
    }

    private func nearestToCentroids() -> NearestCentroids {
        centroids.withUnsafeBufferPointer { centroids in
            nearestCentroids(
                rows: rows, rowNorms: rowNorms, count: count, centroids: centroids.baseAddress!,
                centroidNorms: squaredRowNorms(centroids.baseAddress!, count: clusters, dimension: dimension),
                centroidCount: clusters, dimension: dimension)
        }
    }

    /// Moves every centroid to the mean of its rows. An empty cluster takes the
    /// row farthest from its centroid, and that row is not given to another.
    private mutating func updateCentroids(indices: [Int], distances: [Float]) {
        var sums = [Double](repeating: 0, count: clusters * dimension)
        var sizes = [Int](repeating: 0, count: clusters)
        sums.withUnsafeMutableBufferPointer { sums in
            for row in 0..<count {
                let cluster = indices[row]
                sizes[cluster] += 1
                let (source, target) = (rows + row * dimension, sums.baseAddress! + cluster * dimension)
                for j in 0..<dimension { target[j] += Double(source[j]) }
            }
        }
        var farthest = distances
        for cluster in 0..<clusters {
            if sizes[cluster] == 0 {
                let row = farthest.indices.max { farthest[$0] < farthest[$1] || (farthest[$0] == farthest[$1] && $0 > $1) }!
                copyRow(row, toCentroid: cluster)
                farthest[row] = -1
                continue
            }
            let scale = 1 / Double(sizes[cluster])
            for j in 0..<dimension {
                centroids[cluster * dimension + j] = Float(sums[cluster * dimension + j] * scale)
            }
        }
    }

    private mutating func copyRow(_ row: Int, toCentroid cluster: Int) {
        for j in 0..<dimension { centroids[cluster * dimension + j] = rows[row * dimension + j] }
    }
}

/// Returns `size` distinct rows drawn uniformly, as a row-major [size, dimension]
/// matrix, or all rows in order when `size` is the row count.
private func uniformSample(rows: UnsafePointer<Float>, count: Int, dimension: Int, size: Int,
                           using generator: inout SplitMix64) -> [Float] {
    var order = Array(0..<count)
    if size < count {
        // A partial Fisher–Yates shuffle: the first `size` entries become a uniform sample.
        for i in 0..<size {
            order.swapAt(i, i + Int(generator.next() % UInt64(count - i)))
        }
    }
    var sample = [Float](repeating: 0, count: size * dimension)
    sample.withUnsafeMutableBufferPointer { sample in
        for (slot, row) in order.prefix(size).enumerated() {
            (sample.baseAddress! + slot * dimension).update(from: rows + row * dimension, count: dimension)
        }
    }
    return sample
}
