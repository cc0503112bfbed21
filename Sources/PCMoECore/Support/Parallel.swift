import Dispatch
import Foundation

/// The number of worker threads for element-wise kernels: the cores the
/// process may use.
let parallelWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body` over `0 ..< count` split into contiguous ranges, one per
/// worker, in parallel. Runs inline when `count` is below `grain` per worker.
///
/// Every index is visited exactly once and no two ranges overlap, so a body
/// that writes only its own indices gives the same bits on any thread count.
@inline(__always)
func parallelRanges(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
    let chunks = min(parallelWorkers, count / max(grain, 1))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
    }
}

/// Counts the sections that run with single-threaded products, so that
/// sections on several threads at once restore the caller's setting only
/// when the last one ends.
private final class SingleThreadedSections: @unchecked Sendable {
    private let lock = NSLock()
    private var depth = 0
    private var saved = 1

    func enter() {
        lock.lock()
        defer { lock.unlock() }
        if depth == 0 {
            saved = mathThreads
            setMathThreads(1)
        }
        depth += 1
    }

    func leave() {
        lock.lock()
        defer { lock.unlock() }
        depth -= 1
        if depth == 0 { setMathThreads(saved) }
    }
}

private let singleThreadedSections = SingleThreadedSections()

/// Runs `body` with OpenBLAS limited to one thread, so that several threads
/// can each run their own small products at once.
func withSingleThreadedMath<T>(_ body: () throws -> T) rethrows -> T {
    singleThreadedSections.enter()
    defer { singleThreadedSections.leave() }
    return try body()
}
