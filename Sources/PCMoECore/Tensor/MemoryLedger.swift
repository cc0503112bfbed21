import Foundation

/// Counts the bytes held in tensors by one owner (a model, later a party),
/// by ``TensorKind``, with the peak of each kind and of their sum.
///
/// Every ``Tensor`` created with a ledger adds its bytes on creation and
/// removes them when it is freed, so the counters follow the real lifetime
/// of the storage. Thread-safe: tensors may be created and freed on any thread.
public final class MemoryLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var current = [Int](repeating: 0, count: TensorKind.allCases.count)
    private var peak = [Int](repeating: 0, count: TensorKind.allCases.count)
    private var peakTotal = 0

    /// Creates a ledger with every counter at zero.
    public init() {}

    func add(_ bytes: Int, kind: TensorKind) {
        lock.lock()
        defer { lock.unlock() }
        current[kind.rawValue] += bytes
        peak[kind.rawValue] = max(peak[kind.rawValue], current[kind.rawValue])
        peakTotal = max(peakTotal, current.reduce(0, +))
    }

    func remove(_ bytes: Int, kind: TensorKind) {
        lock.lock()
        defer { lock.unlock() }
        current[kind.rawValue] -= bytes
    }

    /// Returns the bytes of this kind held now.
    public func currentBytes(_ kind: TensorKind) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return current[kind.rawValue]
    }

    /// Returns the largest number of bytes of this kind held at one time.
    public func peakBytes(_ kind: TensorKind) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return peak[kind.rawValue]
    }

    /// The largest number of bytes held at one time, all kinds together.
    ///
    /// This is the peak of the sum, which can be smaller than the sum of the
    /// per-kind peaks.
    public var peakTotalBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return peakTotal
    }

    /// Forgets the peaks, keeping the current counts (to measure one phase).
    public func resetPeaks() {
        lock.lock()
        defer { lock.unlock() }
        peak = current
        peakTotal = current.reduce(0, +)
    }
}
