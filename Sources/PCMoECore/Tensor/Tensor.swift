/// A contiguous, row-major float32 array with a shape.
///
/// Storage is owned by the tensor and freed with it. A tensor created with a
/// ``MemoryLedger`` is counted there under its ``TensorKind`` for as long as
/// it lives. Kernels check shapes with `precondition`: a mismatch is a bug in
/// the caller, not an input error.
public final class Tensor {
    /// The size of each dimension, outermost first.
    public let shape: [Int]
    /// The number of elements: the product of `shape`.
    public let count: Int
    /// The elements, `count` of them, row-major.
    public let data: UnsafeMutablePointer<Float>
    /// The purpose of the bytes, as the ledger counts them.
    public let kind: TensorKind
    private let ledger: MemoryLedger?

    /// Creates a zero-filled tensor.
    /// - Precondition: every dimension is at least 0.
    public init(_ shape: [Int], kind: TensorKind = .activations, ledger: MemoryLedger? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.kind = kind
        self.ledger = ledger
        data = .allocate(capacity: max(count, 1))
        data.initialize(repeating: 0, count: max(count, 1))
        ledger?.add(byteCount, kind: kind)
    }

    /// Creates a tensor holding a copy of `values`.
    /// - Precondition: `values.count` equals the product of `shape`.
    public convenience init(_ shape: [Int], values: [Float], kind: TensorKind = .activations,
                            ledger: MemoryLedger? = nil) {
        self.init(shape, kind: kind, ledger: ledger)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit {
        data.deallocate()
        ledger?.remove(byteCount, kind: kind)
    }

    /// Bytes of storage: 4 per element.
    public var byteCount: Int { count * MemoryLayout<Float>.size }

    /// The number of rows when seen as a matrix whose rows are the last dimension.
    public var rows: Int { shape.count <= 1 ? 1 : count / max(shape.last!, 1) }

    /// The size of the last dimension.
    public var columns: Int { shape.last ?? 1 }

    /// A copy of the elements.
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// Reads or writes the element at a flat index.
    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    /// Sets every element to zero.
    public func zero() {
        data.update(repeating: 0, count: count)
    }

    /// Copies the elements of `other`, which must have the same count.
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    /// True when no element is NaN or infinite.
    public var isFinite: Bool {
        for i in 0..<count where !data[i].isFinite { return false }
        return true
    }
}
