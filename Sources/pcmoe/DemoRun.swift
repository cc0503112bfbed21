import Foundation
import PCMoECore

/// Runs the modes of a comparison one after the other with progress lines,
/// stopping between rounds on Ctrl-C or SIGTERM.
///
/// Returns the outcomes of the modes that finished and, when a signal
/// stopped the run, the signal and the mode it interrupted.
struct DemoRun {
    let comparison: Comparison
    let modes: [ComparisonMode]
    let logEvery: Int

    func run() throws -> (outcomes: [ModeOutcome], stop: (signal: Int32, mode: ComparisonMode)?) {
        let interrupts = Interrupts()
        defer { interrupts.restoreDefaults() }
        comparison.isCancelled = { interrupts.caught != nil }
        let config = comparison.config
        print("\(comparison.partyCount) parties, \(comparison.options.steps) rounds of batch \(comparison.options.batch); "
              + "d_model \(config.dModel), \(config.layers) layers, \(config.experts) experts, top-\(config.topK)")
        for (i, corpus) in comparison.corpora.enumerated() {
            print("party \(i): \(corpus.name), \(corpus.train.count) training bytes, \(corpus.validation.count) validation bytes")
        }

        var outcomes: [ModeOutcome] = []
        for mode in modes {
            let started = Date()
            comparison.onRound = { mode, round, losses in
                guard round % max(logEvery, 1) == 0 || round == comparison.options.steps else { return }
                let text = losses.map { String(format: "%.3f", $0) }.joined(separator: " ")
                let seconds = Date().timeIntervalSince(started)
                print("\(mode.rawValue) round \(round)/\(comparison.options.steps): loss \(text) (\(String(format: "%.1f", seconds)) s)")
            }
            do {
                outcomes.append(try comparison.run(mode))
            } catch PCMoEError.cancelled {
                return (outcomes, interrupts.caught.map { ($0, mode) })
            }
        }
        return (outcomes, nil)
    }
}
