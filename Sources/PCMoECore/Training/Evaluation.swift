import Foundation

/// Validation loss of a model over held-out bytes.
public struct EvaluationResult: Equatable, Sendable {
    /// Mean next-byte cross-entropy in nats.
    public let loss: Double
    /// Predicted bytes that were scored.
    public let tokens: Int

    /// The loss in bits per byte: loss / ln 2.
    public var bitsPerByte: Double { loss / log(2) }
}

extension MoEModel {
    /// Scores `bytes` in consecutive windows of T + 1 bytes that overlap by
    /// one byte (every byte after the first is predicted once), `batch`
    /// windows per forward pass, stopping after `maxWindows` windows if given.
    ///
    /// `isCancelled` is asked before each forward pass, and `progress`
    /// receives (windows scored, windows in all) after each one.
    ///
    /// - Throws: ``PCMoEError/invalidData(_:)`` when `bytes` is shorter than T + 1,
    ///   ``PCMoEError/cancelled(_:)`` when `isCancelled` returns true.
    public func evaluate(_ bytes: ArraySlice<UInt8>, batch: Int = 16, maxWindows: Int? = nil,
                         isCancelled: () -> Bool = { false },
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> EvaluationResult {
        let t = config.sequence
        var windows = bytes.count > t ? (bytes.count - 1) / t : 0
        if let maxWindows { windows = min(windows, maxWindows) }
        guard windows > 0 else {
            throw PCMoEError.invalidData(
                "the text to score has \(bytes.count) bytes, fewer than one sequence of this model (seq_len + 1 = \(t + 1) bytes); score a longer text.")
        }
        try config.validateMemory(batch: min(batch, windows))
        var total = 0.0
        var first = 0
        while first < windows {
            if isCancelled() {
                throw PCMoEError.cancelled("evaluation stopped after \(first) of \(windows) sequences.")
            }
            let count = min(batch, windows - first)
            var tokens = [UInt8]()
            tokens.reserveCapacity(count * (t + 1))
            for w in first..<(first + count) {
                let start = bytes.startIndex + w * t
                tokens += bytes[start..<(start + t + 1)]
            }
            let pass = try forward(tokens: tokens, batch: count, training: false)
            total += pass.crossEntropy * Double(count * t)
            first += count
            progress(first, windows)
        }
        let loss = total / Double(windows * t)
        guard loss.isFinite else {
            throw PCMoEError.nonFinite("the validation loss is \(loss): the model's outputs overflow; use another checkpoint.")
        }
        return EvaluationResult(loss: loss, tokens: windows * t)
    }
}
