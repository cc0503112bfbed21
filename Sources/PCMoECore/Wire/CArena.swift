/// Owns the C memory of one message being packed: every struct and array
/// it hands out is freed when the arena goes away.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// A new C struct, set up by `initialize` (a generated `__init` function).
    func make<T>(_ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        initialize(pointer)
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A C copy of `values`, or nil when there are none. `T` must be a
    /// trivial type: the copy is freed without deinitialising.
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: values.count) }
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A NUL-terminated C copy of `text`.
    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        copy(Array(text.utf8CString))!
    }
}
