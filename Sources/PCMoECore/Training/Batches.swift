/// Draws training batches: B windows of T + 1 bytes at random offsets.
///
/// The offsets of step s come from `SplitMix64(seed:label:)` with the label
/// "batch.s", so a batch depends only on the seed and the step number, and a
/// resumed run draws the same batches as an uninterrupted one.
public struct BatchSampler: Sendable {
    /// The bytes to draw from.
    public let bytes: ArraySlice<UInt8>
    /// Sequences per batch, B.
    public let batch: Int
    /// Bytes per sequence, T + 1.
    public let window: Int
    /// Fixes the offsets of every step.
    public let seed: UInt64

    /// A sampler over `bytes`, which must hold at least one window.
    public init(bytes: ArraySlice<UInt8>, batch: Int, window: Int, seed: UInt64) {
        precondition(bytes.count >= window, "\(bytes.count) bytes for windows of \(window)")
        self.bytes = bytes
        self.batch = batch
        self.window = window
        self.seed = seed
    }

    /// Returns the batch of step `step`: B · (T + 1) bytes, sequence after sequence.
    public func batch(step: Int) -> [UInt8] {
        var rng = SplitMix64(seed: seed, label: "batch.\(step)")
        let starts = UInt64(bytes.count - window + 1)
        var out = [UInt8]()
        out.reserveCapacity(batch * window)
        for _ in 0..<batch {
            let offset = bytes.startIndex + Int(rng.next() % starts)
            out += bytes[offset..<(offset + window)]
        }
        return out
    }
}
