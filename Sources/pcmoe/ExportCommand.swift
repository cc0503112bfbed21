import Foundation
import PCMoECore

enum ExportCommand {
    static let help = """
        Usage: pcmoe export PARTY-MODEL --out FILE [options]

        Asks every other party for its experts and writes the whole model (this
        party's backbone and every expert) to FILE as a one-process checkpoint,
        which 'pcmoe eval', 'pcmoe score --model' and 'pcmoe generate --model'
        then use with no peer. Each owner decides: one that refuses (the
        default; see 'pcmoe serve --allow-export') makes the export fail with
        its id named, and nothing is written. The file holds this party's
        backbone: keep it as private as the party's checkpoints.

        \(ModelSource.partyHelp)
        Export:
          --out FILE            the checkpoint to write; must not exist (required)
          --allow-export IDS    with --in-process: the parties (comma-separated ids) every
                                other party of the run agrees to send its experts to
                                (default: none, so the export is refused)
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let source = try ModelSource.parse(&args)
        let calls = try CallOptions.parse(&args)
        let out = try args.required("--out")
        let allowed = try ServeCommand.parseAllowed(&args)
        try args.finish()
        try calls.check(for: source)
        if case .file = source {
            throw UsageError(message: "--model is already a whole model; export takes a party's model.")
        }
        if !allowed.isEmpty, case .network = source {
            throw UsageError(message: "--allow-export belongs to each owner's 'pcmoe serve'; here it applies to --in-process only.")
        }
        guard !FileManager.default.fileExists(atPath: out) else {
            throw UsageError(message: "\(out) exists; give a new file.")
        }

        Log.set(level: .warning) { _, message in warning(message) }
        let model = try OpenedModel.open(source, calls: calls, exportAllowed: allowed)
        try model.party!.exportModel(to: out)
        print("\(model.summary): wrote the whole model to \(out)")
    }
}
