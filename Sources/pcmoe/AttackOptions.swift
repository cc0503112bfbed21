import Foundation
import PCMoECore

extension AttackCommand {
    static func parseSettings(_ args: inout Arguments) throws -> AttackSettings {
        var s = AttackSettings()
        if let v = try args.int("--attacker", in: 0...Int.max) { s.attacker = v }
        if let v = try args.int("--victim", in: 0...Int.max) { s.victim = v }
        if let v = try args.int("--clusters", in: 1...65_536) { s.clusters = v }
        if let v = try args.int("--window-turns", in: 0...Int.max) { s.windowTurns = v }
        if let v = try args.double("--known-share") { s.knownShare = v }
        if let v = try args.int("--inversion-rows", in: 1...AttackSettings.maxInversionRows) { s.inversionRows = v }
        if let v = try args.int("--inversion-epochs", in: 1...1000) { s.inversion.epochs = v }
        if let v = try args.int("--inversion-hidden", in: 0...65_536) { s.inversion.hiddenWidth = v }
        if args.flag("--no-white-box") { s.whiteBox = false }
        if let v = try args.value("--attack-seed") {
            guard let seed = UInt64(v) else { throw UsageError(message: "--attack-seed expects a non-negative integer, got '\(v)'.") }
            s.seed = seed
        }
        guard s.knownShare >= 0, s.knownShare < 1 else {
            throw UsageError(message: "--known-share is \(s.knownShare); give a share from 0 up to, not including, 1.")
        }
        return s
    }

    /// Returns the runs: every combination of a backbone choice, an own-expert layer
    /// count (0 included) and a noise level (0 included), noise varying fastest.
    static func parseDefenses(_ args: inout Arguments, config: ModelConfig) throws -> [DefenseSetting] {
        let backbones = try list(try args.value("--backbones") ?? "shared", option: "--backbones",
                                 accepted: "shared, private or both") { ["shared": false, "private": true][$0] }
        let sigmas = try list(try args.value("--noise") ?? "", option: "--noise",
                              accepted: "standard deviations from 0 to \(Int(RowNoise.maxSigma))") { text -> Double? in
            Double(text).flatMap { $0.isFinite && $0 >= 0 && $0 <= RowNoise.maxSigma ? $0 : nil }
        }
        let layers = try list(try args.value("--own-expert-layers") ?? "", option: "--own-expert-layers",
                              accepted: "layer counts from 0 to the model's \(config.layers)") { text -> Int? in
            Int(text).flatMap { (0...config.layers).contains($0) ? $0 : nil }
        }
        let givenClip = try args.double("--row-clip")
        if givenClip != nil, !sigmas.contains(where: { $0 > 0 }) {
            throw UsageError(message: "--row-clip sets the clip of the --noise runs; give --noise with a level above 0.")
        }
        let clip = givenClip ?? Double(config.dModel).squareRoot()
        guard clip > 0 else { throw UsageError(message: "--row-clip is \(clip); give a norm above 0.") }

        var runs: [DefenseSetting] = []
        for isPrivate in backbones {
            for count in [0] + layers.filter({ $0 > 0 }) {
                for sigma in [0] + sigmas.filter({ $0 > 0 }) {
                    var run = DefenseSetting()
                    run.privateBackbones = isPrivate
                    run.ownExpertLayers = count
                    run.rowNoise = sigma > 0 ? RowNoise(clipNorm: clip, sigma: sigma, seed: 1) : nil
                    runs.append(run)
                }
            }
        }
        return runs
    }

    /// Splits a comma-separated option into values, failing on an empty item
    /// or the first that `parse` rejects.
    private static func list<Value: Equatable>(_ text: String, option: String, accepted: String,
                                               parse: (String) -> Value?) throws -> [Value] {
        guard !text.isEmpty else { return [] }
        var values: [Value] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let value = parse(item) else {
                let quoted = item.isEmpty ? "an empty item" : "'\(item)'"
                throw UsageError(message: "\(option) has \(quoted); give \(accepted), separated by commas.")
            }
            if !values.contains(value) { values.append(value) }
        }
        return values
    }

    private struct Report: Encodable {
        let config: ModelConfig
        let training: TrainingOptions
        let parties: [String]
        let evalWindows: Int
        let clusters: Int
        let windowTurns: Int
        let knownShare: Double
        let inversionRows: Int
        let inversionEpochs: Int
        let inversionHidden: Int
        let whiteBox: Bool
        let attackSeed: UInt64
        let runs: [AttackReport]
    }

    static func write(_ reports: [AttackReport], comparison: Comparison, settings: AttackSettings, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let report = Report(config: comparison.config, training: comparison.options, parties: comparison.corpora.map(\.name),
                            evalWindows: comparison.evalWindows, clusters: settings.clusters,
                            windowTurns: settings.windowTurns, knownShare: settings.knownShare,
                            inversionRows: settings.inversionRows, inversionEpochs: settings.inversion.epochs,
                            inversionHidden: settings.inversion.hiddenWidth, whiteBox: settings.whiteBox,
                            attackSeed: settings.seed, runs: reports)
        do {
            try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw PCMoEError.io("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
