import Foundation
import PCMoECore

/// Runs a trainer to the end of its schedule, reporting, evaluating and
/// saving on the way, then prints the final validation result.
struct TrainingLoop {
    let trainer: Trainer
    let corpus: Corpus
    let out: SaveTarget?
    let report: ReportOptions
    let metrics: MetricsWriter?

    func run() throws {
        let total = trainer.options.steps
        let config = trainer.model.config
        print("model: d_model \(config.dModel), \(config.heads) heads, \(config.layers) layers, \(config.experts) experts, top-\(config.topK), expert_hidden \(config.expertHidden), seq_len \(config.sequence); \(trainer.model.weights.parameterCount) parameters")
        print("data: \(corpus.train.count) training bytes, \(corpus.validation.count) validation bytes")
        if trainer.step >= total {
            print("the run already finished at step \(trainer.step) of \(total); evaluating only")
            let r = try evaluate()
            print(String(format: "final: step %ld, validation loss %.4f nats, %.3f bits per byte over %ld bytes",
                         trainer.step, r.loss, r.bitsPerByte, r.tokens))
            return
        }
        if trainer.step > 0 { print("resuming after step \(trainer.step) of \(total)") }

        let progress = ProgressReporter(totalSteps: total, every: report.logEvery)
        let interrupts = Interrupts()
        let started = Date()
        while trainer.step < total {
            let m: StepMetrics
            do {
                m = try trainer.trainStep()
            } catch PCMoEError.nonFinite(let message) {
                progress.say("")
                if let out, FileManager.default.fileExists(atPath: out.path) {
                    throw PCMoEError.nonFinite("\(message) The last good checkpoint \(out.path) is kept.")
                }
                throw PCMoEError.nonFinite(message)
            }
            progress.record(m)
            try metrics?.step(m, seconds: Date().timeIntervalSince(started))
            if report.evalEvery > 0, m.step % report.evalEvery == 0, m.step < total {
                let r: EvaluationResult
                do {
                    r = try evaluate { interrupts.caught != nil }
                } catch PCMoEError.cancelled(_) {
                    stop(signal: interrupts.caught!, progress: progress)
                }
                progress.say(String(format: "step %ld: validation loss %.4f, %.3f bits per byte", m.step, r.loss, r.bitsPerByte))
            }
            if let out, report.saveEvery > 0, m.step % report.saveEvery == 0, m.step < total {
                try out.save(trainer)
                progress.say("saved \(out.path) at step \(m.step)")
            }
            if let signal = interrupts.caught, m.step < total {
                stop(signal: signal, progress: progress)
            }
        }
        try finish(started: started, interrupts: interrupts)
    }

    /// Saves when there is somewhere to save, then exits with 128 + the signal number.
    private func stop(signal: Int32, progress: ProgressReporter) -> Never {
        let name = Interrupts.name(signal)
        if let out {
            do {
                try out.save(trainer)
                progress.say("stopped by \(name) after step \(trainer.step); saved \(out.path), continue with --resume \(out.path)")
            } catch {
                progress.say("stopped by \(name) after step \(trainer.step); saving \(out.path) failed: \(error)")
            }
        } else {
            progress.say("stopped by \(name) after step \(trainer.step); nothing saved because --out is not set")
        }
        exit(128 + signal)
    }

    private func evaluate(isCancelled: () -> Bool = { false }) throws -> EvaluationResult {
        let limit = report.evalWindows > 0 ? report.evalWindows : nil
        let r = try trainer.model.evaluate(corpus.validation, batch: trainer.options.batch, maxWindows: limit,
                                           isCancelled: isCancelled)
        try metrics?.evaluation(step: trainer.step, r)
        return r
    }

    /// Saves, then evaluates. A signal caught before the save stops the run
    /// after it. Once the checkpoint is safe, the signals get their default
    /// action back, so Ctrl-C ends a long final evaluation at once.
    private func finish(started: Date, interrupts: Interrupts) throws {
        if let out {
            try out.save(trainer)
            print("saved \(out.path) at step \(trainer.step)")
        }
        interrupts.restoreDefaults()
        if let signal = interrupts.caught {
            print("stopped by \(Interrupts.name(signal)) before the final evaluation")
            exit(128 + signal)
        }
        let r = try evaluate()
        let ledger = trainer.model.ledger
        let peaks = TensorKind.allCases.map { "\($0) \(ledger.peakBytes($0) / 1024) KiB" }.joined(separator: ", ")
        print("peak tensor memory: \(peaks); total \(ledger.peakTotalBytes / 1024) KiB")
        print(String(format: "final: step %ld, validation loss %.4f nats, %.3f bits per byte over %ld bytes (%.1f s)",
                     trainer.step, r.loss, r.bitsPerByte, r.tokens, Date().timeIntervalSince(started)))
    }
}
