import Foundation
import PCMoECore

/// Runs a privacy evaluation once per defense with progress lines, stopping
/// between rounds on Ctrl-C or SIGTERM.
struct AttackRun {
    let evaluation: PrivacyEvaluation
    let defenses: [DefenseSetting]
    let logEvery: Int

    /// Returns the reports of the runs that finished and, when a signal
    /// stopped a run, that signal.
    func run() throws -> (reports: [AttackReport], stop: Int32?) {
        let interrupts = Interrupts()
        defer { interrupts.restoreDefaults() }
        evaluation.isCancelled = { interrupts.caught != nil }
        let comparison = evaluation.comparison, settings = evaluation.settings
        let config = comparison.config
        print("\(comparison.partyCount) parties, \(comparison.options.steps) rounds of batch \(comparison.options.batch); "
              + "d_model \(config.dModel), \(config.layers) layers, \(config.experts) experts, top-\(config.topK); "
              + "party \(settings.attacker) attacks party \(settings.victim)")

        var reports: [AttackReport] = []
        for (i, defense) in defenses.enumerated() {
            let started = Date()
            let prefix = "run \(i + 1)/\(defenses.count) (\(defense))"
            print("\(prefix): training")
            evaluation.onRound = { round, losses in
                guard round % max(logEvery, 1) == 0 || round == comparison.options.steps else { return }
                let text = losses.map { String(format: "%.3f", $0) }.joined(separator: " ")
                print("\(prefix) round \(round)/\(comparison.options.steps): loss \(text) "
                      + "(\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
            }
            evaluation.onStage = { stage in
                print("\(prefix): \(stage) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
            }
            do {
                reports.append(try evaluation.run(defense))
            } catch PCMoEError.cancelled {
                let signal = interrupts.caught ?? SIGINT
                let outcome = reports.isEmpty ? "nothing was written"
                    : "attack.json contains the \(reports.count) finished run\(reports.count == 1 ? "" : "s")"
                fputs("stopped by \(Interrupts.name(signal)) during run \(i + 1); \(outcome).\n", stderr)
                return (reports, signal)
            }
        }
        return (reports, nil)
    }
}
