import COpenBLAS

// Squared Euclidean distances between rows and centroids, computed as
// ‖x‖² − 2·x·c + ‖c‖² so that the cross term is one sgemm per block of rows.

/// Rows per sgemm call in ``nearestCentroids``: bounds the scratch buffer of
/// dot products at this many rows times the centroid count.
private let distanceBlockRows = 4096

/// Returns the squared L2 norm of each row of a row-major [count, dimension] matrix.
func squaredRowNorms(_ rows: UnsafePointer<Float>, count: Int, dimension: Int) -> [Float] {
    var norms = [Float](repeating: 0, count: count)
    norms.withUnsafeMutableBufferPointer { out in
        let out = out
        parallelRanges(count, grain: 1024) { range in
            for i in range {
                let row = rows + i * dimension
                out[i] = cblas_sdot(Int32(dimension), row, 1, row, 1)
            }
        }
    }
    return norms
}

/// The nearest centroid of each row, with the squared distances to the
/// nearest and to the second-nearest centroid (infinity with one centroid).
struct NearestCentroids {
    var indices: [Int]
    var distances: [Float]
    var secondDistances: [Float]
}

/// Finds, for every row, the nearest two centroids' squared distances and the nearest one's index.
///
/// Shapes: rows [count, dimension], centroids [centroidCount, dimension], both
/// row-major, and the norms from ``squaredRowNorms``. Equal distances go to
/// the lower centroid index. Distances are clamped at zero, because the
/// expanded form can round slightly below it.
func nearestCentroids(
    rows: UnsafePointer<Float>, rowNorms: [Float], count: Int,
    centroids: UnsafePointer<Float>, centroidNorms: [Float], centroidCount: Int, dimension: Int
) -> NearestCentroids {
    precondition(centroidCount > 0, "nearest centroid of \(count) rows among no centroids")
    var result = NearestCentroids(indices: [Int](repeating: 0, count: count),
                                  distances: [Float](repeating: 0, count: count),
                                  secondDistances: [Float](repeating: 0, count: count))
    let block = min(distanceBlockRows, max(count, 1))
    var dots = [Float](repeating: 0, count: block * centroidCount)
    dots.withUnsafeMutableBufferPointer { dots in
        for start in stride(from: 0, to: count, by: block) {
            let size = min(block, count - start)
            sgemm(transB: true, m: size, n: centroidCount, k: dimension, a: rows + start * dimension, lda: dimension,
                  b: centroids, ldb: dimension, c: dots.baseAddress!, ldc: centroidCount)
            result.indices.withUnsafeMutableBufferPointer { indices in
                result.distances.withUnsafeMutableBufferPointer { distances in
                    result.secondDistances.withUnsafeMutableBufferPointer { seconds in
                        let (indices, distances, seconds, dots) = (indices, distances, seconds, dots)
                        parallelRanges(size, grain: 256) { range in
                            for local in range {
                                let row = start + local
                                let best = nearestTwo(dots: dots.baseAddress! + local * centroidCount,
                                                      centroidNorms: centroidNorms)
                                indices[row] = best.index
                                distances[row] = max(0, rowNorms[row] + best.first)
                                seconds[row] = max(0, rowNorms[row] + best.second)
                            }
                        }
                    }
                }
            }
        }
    }
    return result
}

/// Returns the index minimizing ‖c‖² − 2·x·c over one row's dot products,
/// that minimum, and the smallest value at any other index.
@inline(__always)
private func nearestTwo(dots: UnsafePointer<Float>, centroidNorms: [Float]) -> (index: Int, first: Float, second: Float) {
    var best = 0
    var first = Float.infinity
    var second = Float.infinity
    for j in 0..<centroidNorms.count {
        let value = centroidNorms[j] - 2 * dots[j]
        if value < first {
            second = first
            first = value
            best = j
        } else if value < second {
            second = value
        }
    }
    return (best, first, second)
}
