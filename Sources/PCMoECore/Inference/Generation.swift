import Foundation

extension MoEModel {
    /// Continues `prompt` by up to `maxBytes` bytes and returns them.
    ///
    /// Each byte comes from the logits after the last T bytes of the text so
    /// far (prompt and bytes produced), drawn as `sampling` says. `emit`
    /// receives each byte as soon as it is drawn and returns false to stop.
    /// `isCancelled` is checked before each byte.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for an empty prompt, a
    ///   negative `maxBytes` or bad sampling options;
    ///   ``PCMoEError/cancelled(_:)`` when `isCancelled` returns true; and
    ///   what the experts throw, such as ``PCMoEError/peer(_:)``.
    public func generate(prompt: [UInt8], maxBytes: Int, sampling: SamplingOptions,
                         isCancelled: () -> Bool = { false }, emit: (UInt8) -> Bool = { _ in true }) throws -> [UInt8] {
        guard !prompt.isEmpty else {
            throw PCMoEError.invalidArgument("the prompt is empty; give at least one byte to continue.")
        }
        guard maxBytes >= 0 else {
            throw PCMoEError.invalidArgument("the length limit is \(maxBytes) bytes; give 0 or more.")
        }
        try sampling.validate()

        var sampler = ByteSampler(options: sampling)
        var text = prompt
        var produced: [UInt8] = []
        while produced.count < maxBytes {
            if isCancelled() {
                throw PCMoEError.cancelled("generation stopped after \(produced.count) bytes: it was cancelled.")
            }
            let window = Array(text.suffix(config.sequence))
            let logits = try self.logits(for: window)
            let byte = sampler.next(logits.suffix(ModelConfig.vocabulary))
            produced.append(byte)
            text.append(byte)
            if !emit(byte) { break }
        }
        return produced
    }
}

extension Party {
    /// Continues `prompt` with this party's model: its own backbone and every
    /// expert, asking the owners for inference forwards that keep nothing.
    /// See ``MoEModel/generate(prompt:maxBytes:sampling:isCancelled:emit:)``.
    /// ``cancel()`` stops it before the next byte. Runs one at a time with
    /// turns and evaluations.
    public func generate(prompt: [UInt8], maxBytes: Int, sampling: SamplingOptions,
                         emit: (UInt8) -> Bool = { _ in true }) throws -> [UInt8] {
        try lockTurn()
        defer { unlockTurn() }
        calls.resetCancel()
        remote.turn = 0
        return try model.generate(prompt: prompt, maxBytes: maxBytes, sampling: sampling,
                                  isCancelled: { calls.isCancelled }, emit: emit)
    }
}
