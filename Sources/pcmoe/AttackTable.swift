import Foundation
import PCMoECore

/// The figures of every run of `pcmoe attack` as one Markdown table: a row
/// per figure, a column per run.
struct AttackTable {
    let reports: [AttackReport]
    let corpora: [String]

    func render() -> String {
        let first = reports[0]
        var lines = ["", "Party \(first.attacker) (\(name(first.attacker))) attacks party \(first.victim) "
                     + "(\(name(first.victim))). Each attack cell: bytes recovered / most frequent byte, at the tokens scored.", ""]
        lines.append("| | " + reports.map { "\($0.defense)" }.joined(separator: " | ") + " |")
        lines.append("|---|" + String(repeating: "---|", count: reports.count))
        lines.append(row("victim bits per byte") { String(format: "%.3f", $0.bitsPerByte[$0.victim]) })
        lines.append(row("mean bits per byte") { String(format: "%.3f", $0.bitsPerByte.reduce(0, +) / Double($0.bitsPerByte.count)) })
        for layer in first.observedPerLayer.indices {
            lines.append(row("victim tokens seen, layer \(layer)") { percent($0.observedPerLayer[layer], of: $0.victimTokens) })
        }
        lines.append(row("victim tokens seen, any layer") { percent($0.observedTokens, of: $0.victimTokens) })
        for (i, attack) in first.attacks.enumerated() {
            lines.append(row(attack.name) { report in
                let result = report.attacks[i]
                guard let accuracy = result.accuracy, let baseline = result.baseline else { return "–" }
                return String(format: "%.3f / %.3f", accuracy, baseline)
            })
        }
        lines.append(row("training s") { String(format: "%.0f", $0.trainingSeconds) })
        lines.append(row("attack s") { String(format: "%.0f", $0.attackSeconds) })
        return lines.joined(separator: "\n") + "\n"
    }

    private func row(_ label: String, _ cell: (AttackReport) -> String) -> String {
        "| \(label) | " + reports.map(cell).joined(separator: " | ") + " |"
    }

    private func percent(_ count: Int, of total: Int) -> String {
        String(format: "%d (%.0f %%)", count, 100 * Double(count) / Double(max(total, 1)))
    }

    private func name(_ party: Int) -> String {
        party < corpora.count ? (corpora[party] as NSString).lastPathComponent : "party \(party)"
    }
}
