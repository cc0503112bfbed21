import Foundation
import PCMoECore

/// The summary `pcmoe demo` prints: quality per party and mode, then what
/// each mode costs each party in memory, traffic and time.
struct DemoTable {
    let outcomes: [ModeOutcome]
    let corpora: [String]

    func render() -> String {
        [quality(), memory(), kinds(), traffic(), time()].filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    private var partyHeaders: [String] {
        corpora.enumerated().map { "p\($0.offset) " + short($0.element) }
    }

    private func quality() -> String {
        var rows = [["validation bits per byte"] + partyHeaders]
        for o in outcomes { rows.append([o.mode.rawValue] + o.parties.map { String(format: "%.3f", $0.bitsPerByte) }) }
        return layout(rows)
    }

    private func memory() -> String {
        let central = outcomes.first { $0.mode == .centralized }?.sharedPeakTotalBytes
        var rows = [["peak tensor MiB (saved vs centralized)"] + partyHeaders]
        for o in outcomes {
            rows.append([o.mode.rawValue] + o.parties.map { p in
                let mib = String(format: "%.1f", Double(p.peakTotalBytes) / 1_048_576)
                guard let central, o.mode != .centralized else { return mib }
                let saved = (100 * (1 - Double(p.peakTotalBytes) / Double(central))).rounded()
                return mib + " (\(saved == 0 ? 0 : Int(saved)) %)"
            })
        }
        return layout(rows)
    }

    /// Peak MiB by kind, for each party of the PC-MoE modes and for centralized.
    private func kinds() -> String {
        let names = TensorKind.allCases.map(\.description)
        var rows = [["peak MiB by kind", "party"] + names]
        for o in outcomes where o.mode.wireType != nil || o.mode == .centralized {
            for p in o.mode == .centralized ? Array(o.parties.prefix(1)) : o.parties {
                let party = o.mode == .centralized ? "all" : "p\(p.party)"
                rows.append([o.mode.rawValue, party] + names.map { String(format: "%.2f", Double(p.peakBytes[$0] ?? 0) / 1_048_576) })
            }
        }
        return rows.count > 1 ? layout(rows) : ""
    }

    private func traffic() -> String {
        var rows = [["KiB per turn sent / received"] + partyHeaders]
        for o in outcomes where o.mode.wireType != nil {
            let turns = Double(max(o.rounds * o.parties.count, 1))
            rows.append([o.mode.rawValue] + o.parties.map {
                String(format: "%.0f / %.0f", Double($0.bytesSent) / 1024 / turns, Double($0.bytesReceived) / 1024 / turns)
            })
        }
        return rows.count > 1 ? layout(rows) : ""
    }

    private func time() -> String {
        var rows = [["mode", "wall seconds"]]
        for o in outcomes { rows.append([o.mode.rawValue, String(format: "%.1f", o.wallSeconds)]) }
        return layout(rows)
    }

    /// The last path component without compression suffixes, at most 12 characters.
    private func short(_ name: String) -> String {
        var base = (name as NSString).lastPathComponent
        for suffix in [".gz", ".dz", ".dict"] where base.hasSuffix(suffix) { base = String(base.dropLast(suffix.count)) }
        return String(base.prefix(12))
    }

    /// Left-aligns the first column and right-aligns the others.
    private func layout(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
