/// The settings of a ``KMeans`` fit.
public struct KMeansOptions: Equatable, Sendable {
    /// The number of clusters k. A fit on fewer rows than this has one cluster per row.
    public var clusters: Int
    /// The seed of the k-means++ seeding.
    public var seed: UInt64
    /// The maximum number of Lloyd iterations (assignment and centroid
    /// update) in each run: on the seeding sample, then on all rows, then
    /// on all rows again after each swap.
    public var maxIterations = 25
    /// A run of Lloyd iterations stops once an assignment step lowers the
    /// inertia by at most this share of it.
    public var tolerance = 1e-4
    /// The k-means++ seeding, and a first run of Lloyd iterations, use a
    /// uniform sample of this many rows per cluster, which bounds their cost
    /// for large inputs.
    public var seedingRowsPerCluster = 64
    /// The maximum number of times a centroid moves to the row farthest from
    /// its centroid after Lloyd iterations converge, each followed by Lloyd
    /// iterations again. A move happens only when it lowers the inertia by
    /// more than the mean squared distance of one row; 0 turns them off.
    public var maxSwaps = 4

    /// Creates options for `clusters` clusters seeded with `seed`.
    public init(clusters: Int, seed: UInt64) {
        self.clusters = clusters
        self.seed = seed
    }
}

/// A k-means clustering of rows of `dimension` floats.
///
/// The fit runs greedy k-means++ seeding and Lloyd iterations on a sample,
/// then Lloyd iterations on all rows. Then, while that clearly lowers the
/// inertia, it moves a centroid to the row farthest from its centroid and
/// iterates again. Distances are computed through ``sgemm``.
///
/// A cluster that loses all its rows in an iteration is moved to the row
/// farthest from its own centroid. When the rows have fewer distinct values
/// than clusters, some clusters stay empty.
public struct KMeans: Sendable {
    /// The length of each row.
    public let dimension: Int
    /// The centroids, row-major [clusterCount, dimension].
    public let centroids: [Float]
    /// The cluster of each row the model was fitted on, equal to `assign` of those rows.
    public let assignments: [Int]
    /// The sum of squared distances from the fitted rows to their centroids.
    public let inertia: Double
    /// The number of Lloyd iterations run on all rows, over all runs.
    public let iterations: Int
    /// The number of centroids moved to a far row.
    public let swaps: Int

    /// The number of clusters: `options.clusters`, or the row count when that is smaller.
    public var clusterCount: Int { centroids.count / dimension }

    /// The number of fitted rows in each cluster.
    public var clusterSizes: [Int] { symbolCounts(assignments, symbolCount: clusterCount) }

    /// Fits k-means to `rows`, a row-major [n, dimension] array.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when `dimension` or
    ///   `options.clusters` is below 1, `options.maxIterations` or `options.maxSwaps` is negative,
    ///   `options.seedingRowsPerCluster` is below 1,
    ///   there are no rows, or `rows.count` is not a multiple of `dimension`.
    public init(rows: [Float], dimension: Int, options: KMeansOptions) throws {
        try Self.validate(valueCount: rows.count, dimension: dimension, options: options)
        let fit = rows.withUnsafeBufferPointer { rows in
            LloydFit.fit(rows: rows.baseAddress!, count: rows.count / dimension, dimension: dimension, options: options)
        }
        self.dimension = dimension
        centroids = fit.centroids
        assignments = fit.assignments
        inertia = fit.inertia
        iterations = fit.iterations
        swaps = fit.swaps
    }

    /// Fits k-means to the rows of `rows`, whose last dimension is the row length.
    /// - Throws: as ``init(rows:dimension:options:)``.
    public init(rows: Tensor, options: KMeansOptions) throws {
        try self.init(rows: rows.values, dimension: rows.columns, options: options)
    }

    /// Returns the nearest centroid of each row of `rows`, a row-major
    /// [n, dimension] array. Equal distances go to the lower cluster index.
    /// - Precondition: `rows.count` is a multiple of `dimension`.
    public func assign(_ rows: [Float]) -> [Int] {
        precondition(rows.count % dimension == 0, "k-means assign: \(rows.count) values for rows of \(dimension)")
        return rows.withUnsafeBufferPointer { rows in
            assign(rows.baseAddress!, count: rows.count / dimension)
        }
    }

    /// Returns the nearest centroid of each row of `rows`, whose last dimension must equal `dimension`.
    public func assign(_ rows: Tensor) -> [Int] {
        precondition(rows.columns == dimension, "k-means assign: rows \(rows.shape) for dimension \(dimension)")
        return assign(UnsafePointer(rows.data), count: rows.count / dimension)
    }

    private func assign(_ rows: UnsafePointer<Float>, count: Int) -> [Int] {
        centroids.withUnsafeBufferPointer { centroids in
            nearestCentroids(
                rows: rows, rowNorms: squaredRowNorms(rows, count: count, dimension: dimension), count: count,
                centroids: centroids.baseAddress!,
                centroidNorms: squaredRowNorms(centroids.baseAddress!, count: clusterCount, dimension: dimension),
                centroidCount: clusterCount, dimension: dimension
            ).indices
        }
    }

    private static func validate(valueCount: Int, dimension: Int, options: KMeansOptions) throws {
        guard dimension >= 1 else {
            throw PCMoEError.invalidArgument("k-means: row dimension \(dimension) is invalid; it must be at least 1.")
        }
        guard options.clusters >= 1 else {
            throw PCMoEError.invalidArgument("k-means: cluster count \(options.clusters) is invalid; it must be at least 1.")
        }
        guard options.maxIterations >= 0 else {
            throw PCMoEError.invalidArgument(
                "k-means: maximum iterations \(options.maxIterations) is invalid; it must be at least 0.")
        }
        guard options.seedingRowsPerCluster >= 1 else {
            throw PCMoEError.invalidArgument(
                "k-means: seeding rows per cluster \(options.seedingRowsPerCluster) is invalid; it must be at least 1.")
        }
        guard options.maxSwaps >= 0 else {
            throw PCMoEError.invalidArgument("k-means: maximum swaps \(options.maxSwaps) is invalid; it must be at least 0.")
        }
        guard valueCount > 0, valueCount % dimension == 0 else {
            throw PCMoEError.invalidArgument(
                "k-means: \(valueCount) values do not form rows of \(dimension); pass at least one whole row.")
        }
    }
}
