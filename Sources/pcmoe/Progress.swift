import Foundation
import PCMoECore

/// Shows training progress: a live line rewritten in place on a terminal, or
/// one plain line per `every` steps otherwise.
final class ProgressReporter {
    private let totalSteps: Int
    private let every: Int
    private let live = isatty(STDERR_FILENO) == 1
    private let started = Date()
    private var windowStart = Date()
    private var windowTokens = 0
    private var firstStep: Int?
    private var tokensPerSecond = 0.0

    init(totalSteps: Int, every: Int) {
        self.totalSteps = totalSteps
        self.every = every
    }

    /// Records a finished step and prints when due.
    func record(_ m: StepMetrics) {
        if firstStep == nil { firstStep = m.step }
        windowTokens += m.tokens
        let now = Date()
        let span = now.timeIntervalSince(windowStart)
        if span >= 1 || m.step == totalSteps || m.step % every == 0 {
            tokensPerSecond = span > 0 ? Double(windowTokens) / span : 0
            windowStart = now
            windowTokens = 0
        }
        let line = String(format: "step %ld/%ld  loss %.4f  lr %.2e  %.0f tok/s  %@ left",
                          m.step, totalSteps, m.loss, m.learningRate, tokensPerSecond, timeLeft(after: m.step))
        if live {
            fputs("\r" + line + "\u{1B}[K", stderr)
            if m.step == totalSteps { fputs("\n", stderr) }
        } else if m.step % every == 0 || m.step == totalSteps || m.step == firstStep {
            print(line)
        }
    }

    /// Prints a message on its own line, clearing a live line first.
    func say(_ text: String) {
        if live { fputs("\r\u{1B}[K", stderr) }
        print(text)
    }

    private func timeLeft(after step: Int) -> String {
        let done = step - (firstStep ?? step) + 1
        let perStep = Date().timeIntervalSince(started) / Double(max(done, 1))
        let estimate = perStep * Double(totalSteps - step)
        guard estimate < 360_000_000 else { return "years" }
        let seconds = Int(estimate)
        return seconds >= 3600 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m"
            : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }
}

/// Writes metrics as JSON lines, one object per line, flushed as written.
final class MetricsWriter {
    private let handle: FileHandle
    private let path: String

    /// Opens `path` for appending, creating it when missing.
    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw PCMoEError.io("cannot create the metrics file \(path); check that its folder exists and is writable.")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw PCMoEError.io("cannot open the metrics file \(path) for writing.")
        }
        handle.seekToEndOfFile()
        self.handle = handle
        self.path = path
    }

    /// Writes the object that marks the beginning of a run.
    func start(_ trainer: Trainer, resumedFrom: String?) throws {
        let c = trainer.model.config, o = trainer.options
        try write(String(format: "{\"event\":\"start\",\"time\":\"%@\",\"resumed_from_step\":%ld,\"d_model\":%ld,\"n_heads\":%ld,\"n_layers\":%ld,\"n_experts\":%ld,\"top_k\":%ld,\"expert_hidden\":%ld,\"seq_len\":%ld,\"steps\":%ld,\"batch\":%ld,\"learning_rate\":%.6e,\"seed\":%llu}",
                     ISO8601DateFormatter().string(from: Date()), trainer.step, c.dModel, c.heads, c.layers, c.experts,
                     c.topK, c.expertHidden, c.sequence, o.steps, o.batch, o.learningRate, o.seed))
    }

    func step(_ m: StepMetrics, seconds: Double) throws {
        try write(String(format: "{\"event\":\"step\",\"step\":%ld,\"loss\":%.6f,\"cross_entropy\":%.6f,\"balance_loss\":%.6f,\"lr\":%.6e,\"grad_norm\":%.6f,\"tokens\":%ld,\"elapsed_s\":%.3f}",
                     m.step, m.loss, m.crossEntropy, m.balanceLoss, m.learningRate, m.gradientNorm, m.tokens, seconds))
    }

    func evaluation(step: Int, _ r: EvaluationResult) throws {
        try write(String(format: "{\"event\":\"eval\",\"step\":%ld,\"val_loss\":%.6f,\"val_bpb\":%.6f,\"tokens\":%ld}",
                     step, r.loss, r.bitsPerByte, r.tokens))
    }

    /// Appends one line. A failed write (a full disk, a file size limit)
    /// becomes an error instead of a crash.
    private func write(_ line: String) throws {
        do {
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw PCMoEError.io("writing the metrics file \(path) failed: \(error.localizedDescription); free some space or drop --metrics.")
        }
    }
}
