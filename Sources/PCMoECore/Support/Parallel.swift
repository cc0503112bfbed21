import COpenBLAS
import Dispatch
import Foundation

/// The worker count of the math: how many parts a product or an element-wise
/// kernel is split into. Guarded by a lock because hosts may set it from any
/// thread.
private final class WorkerCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = max(1, ProcessInfo.processInfo.activeProcessorCount)

    var value: Int {
        get {
            lock.lock()
            defer { lock.unlock() }
            return count
        }
        set {
            lock.lock()
            defer { lock.unlock() }
            count = min(max(1, newValue), 1024)
        }
    }
}

private let workers = WorkerCount()

/// OpenBLAS runs every call on the calling thread; pcmoe splits the work
/// itself. OpenBLAS's own threading picks its split from a global setting,
/// so its results could change with whatever else runs in the process.
private let openBLASSingleThreaded: Void = openblas_set_num_threads(1)

/// Sets how many threads the math uses, clamped to 1 ... 1024 (by default,
/// the cores the process may use).
///
/// Results depend on this count only through the order of independent
/// pieces of work, which never changes a sum: the same inputs give the same
/// bits with any worker count on the same machine. Thread-safe.
public func setMathThreads(_ count: Int) {
    workers.value = count
}

/// The number of threads the math uses.
public var mathThreads: Int { workers.value }

/// Runs `body` over `0 ..< count` split into contiguous ranges, one per
/// worker, in parallel. Runs inline when `count` is below `grain` per worker.
///
/// Every index is visited exactly once and no two ranges overlap, so a body
/// that writes only its own indices gives the same bits on any thread count.
/// Work already running on a worker runs nested parallel calls inline.
@inline(__always)
func parallelRanges(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
    let chunks = min(mathThreads, count / max(grain, 1))
    if chunks <= 1 || WorkerMark.isSet {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        WorkerMark.run { body((count * chunk / chunks)..<(count * (chunk + 1) / chunks)) }
    }
}

/// A per-thread mark that makes nested parallel calls run inline.
enum WorkerMark {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True on a thread that is running a part of a parallel call.
    static var isSet: Bool { pthread_getspecific(key) != nil }

    /// Runs `body` with the mark set, restoring the previous state after.
    static func run(_ body: () -> Void) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        body()
        pthread_setspecific(key, previous)
    }
}

/// Computes `body(i)` for every i in 0 ..< count on the workers and returns
/// the results in index order.
func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { slots in
        let slots = slots
        if WorkerMark.isSet || mathThreads == 1 {
            for i in 0..<count { slots[i] = body(i) }
            return
        }
        // At most mathThreads workers, each taking the next index when free,
        // which balances items of unequal cost.
        let next = NextIndex()
        DispatchQueue.concurrentPerform(iterations: min(mathThreads, count)) { _ in
            WorkerMark.run {
                while let i = next.take(below: count) { slots[i] = body(i) }
            }
        }
    }
    return results.map { $0! }
}

/// A shared counter that hands out 0, 1, 2, … to the threads that call `take`.
private final class NextIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// Makes sure OpenBLAS runs single-threaded before the first product.
@inline(__always)
func ensureSingleThreadedBLAS() {
    _ = openBLASSingleThreaded
}
