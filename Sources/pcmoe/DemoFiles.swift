import Foundation
import PCMoECore

/// The files `pcmoe demo` writes: the raw figures as JSON and the loss curves as SVG.
struct DemoFiles {
    let folder: String

    var json: String { folder + "/results.json" }
    var svg: String { folder + "/loss-curves.svg" }

    /// Creates the folder if needed and checks both files before any training.
    func check(overwrite: Bool) throws {
        try OutputFiles.prepare(folder: folder, files: [json, svg], replacing: overwrite)
    }

    struct Report: Encodable {
        let config: ModelConfig
        let training: TrainingOptions
        let parties: [String]
        let modes: [ModeOutcome]
    }

    /// Writes both files, each replaced in one step.
    // NOTE: the files are checked before training and replaced at the end, so
    // a file another process creates at either path during the run is replaced.
    func write(_ outcomes: [ModeOutcome], comparison: Comparison) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let names = comparison.corpora.map(\.name)
        let report = Report(config: comparison.config, training: comparison.options, parties: names, modes: outcomes)
        try save(try encoder.encode(report), to: json)
        try save(Data(lossCurvesSVG(outcomes, partyNames: names).utf8), to: svg)
    }

    private func save(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw PCMoEError.io("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
