import Foundation
import PCMoECore

enum DemoCommand {
    static let debianCorpora = ["/usr/share/games/fortunes", "/usr/share/dictd/jargon.dict.dz",
                                "/usr/share/dictd/devil.dict.dz"]

    static let help = """
        Usage: pcmoe demo [options]

        Trains one MoE model collaboratively (PC-MoE) with one party per corpus, then
        trains the baselines on the same batches, and prints, for each party, its
        validation loss and bits per byte under each mode, its peak tensor memory by
        kind and the saving against centralized training, the bytes it sent and
        received per turn, and the wall time of each mode. Writes the raw figures as
        JSON and the training-loss curves as SVG.

        Modes: pcmoe (experts spread over the parties, f32 on the wire, every backbone
        starting from the same initial weights), pcmoe-private (the same, but each
        backbone starts from the party's own private seed), pcmoe-bf16 and pcmoe-f16
        (pcmoe with reduced precision on the wire), centralized (one model, all data,
        parties' batches in round-robin order), local-shard (each party alone with only
        its own experts), local-full (each party alone with every expert). Every party
        contributes one batch per round in every mode.

        Data and output:
          --data PATH           one party's corpus: a text file, gzip file or folder; repeat
                                once per party (default: the Debian corpora fortunes, jargon
                                and devil, one party each)
          --out DIR             folder for results.json and loss-curves.svg, created if
                                missing (default out/demo)
          --overwrite           allow replacing results.json and loss-curves.svg in --out
        Run:
          --rounds N            rounds R: each party's batches per mode (default 150)
          --quick               a short run: 20 rounds and 16 validation windows
          --modes LIST          comma-separated modes to run (default
                                pcmoe,pcmoe-private,centralized,local-shard,local-full)
          --eval-windows N      validation sequences scored per party at the end (default 64)
          --threads N           threads for the math, 1 to 1024 (default: the cores this process may use)
          --log-every N         rounds between progress lines (default 25)
        Model:
        \(ModelOptions.help(defaults: demoConfig))
        Training (defaults: batch 16, lr 2e-3, warm-up 0.05, seed 1; --steps is not
        accepted, use --rounds):
          --batch N  --lr X  --warmup X  --min-lr-ratio X  --weight-decay X  --clip X  --seed N
        """

    static var demoConfig: ModelConfig {
        ModelConfig(dModel: 128, heads: 4, layers: 2, experts: 8, topK: 2, expertHidden: 256, sequence: 64)
    }

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let paths = try args.values("--data")
        let outFolder = try args.value("--out") ?? "out/demo"
        let overwrite = args.flag("--overwrite")
        let quick = args.flag("--quick")
        let rounds = try args.int("--rounds") ?? (quick ? 20 : 150)
        let evalWindows = try args.int("--eval-windows") ?? (quick ? 16 : 64)
        let modes = try parseModes(try args.value("--modes"))
        let threads = try args.int("--threads", in: 1...1024)
        let logEvery = try args.int("--log-every") ?? 25
        if arguments.contains(where: { $0 == "--steps" || $0.hasPrefix("--steps=") }) {
            throw UsageError(message: "--steps is not an option of demo; give the number of rounds with --rounds.")
        }
        let config = try ModelOptions.parse(&args, file: try args.value("--config"), base: demoConfig)
        let options = try parseTraining(&args, rounds: rounds)
        try args.finish()

        if paths.count == 1 {
            throw UsageError(message: "--data was given once; give it once per party, for at least two parties.")
        }
        let files = DemoFiles(folder: outFolder)
        try files.check(overwrite: overwrite)
        if let threads { setMathThreads(threads) }
        let corpora = try (paths.isEmpty ? debianCorpora : paths).map { path in
            try Corpus.load(paths: [path]) { warning("\($0)") }
        }
        let comparison = try Comparison(config: config, options: options, corpora: corpora, evalWindows: evalWindows)
        let (outcomes, stop) = try DemoRun(comparison: comparison, modes: modes, logEvery: logEvery).run()
        if !outcomes.isEmpty {
            try files.write(outcomes, comparison: comparison)
            print(DemoTable(outcomes: outcomes, corpora: corpora.map(\.name)).render())
            printSamples(outcomes)
            print("results: \(files.json)")
            print("loss curves: \(files.svg)")
        }
        if let stop {
            let kept = outcomes.isEmpty ? "nothing was written" : "the results hold the \(outcomes.count) modes that finished"
            fputs("stopped by \(Interrupts.name(stop.signal)) during the \(stop.mode.rawValue) run; \(kept).\n", stderr)
            exit(128 + stop.signal)
        }
    }

    /// Reads the training options with the demo's defaults (batch 16, rate
    /// 2e-3) and `rounds` as the steps; `pcmoe attack` trains the same way.
    static func parseTraining(_ args: inout Arguments, rounds: Int) throws -> TrainingOptions {
        var base = TrainingOptions()
        base.batch = 16
        base.learningRate = 2e-3
        var options = try TrainCommand.parseTraining(&args, base: base)
        options.steps = rounds
        try options.validate()
        return options
    }

    static func parseModes(_ list: String?) throws -> [ComparisonMode] {
        guard let list else { return ComparisonMode.defaults }
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var modes: [ComparisonMode] = []
        for name in names {
            guard let mode = ComparisonMode(rawValue: name) else {
                let known = ComparisonMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw UsageError(message: "--modes has '\(name)'; the modes are \(known).")
            }
            if !modes.contains(mode) { modes.append(mode) }
        }
        return modes
    }

    /// Prints the continuation each party's model generated in the first PC-MoE mode that ran.
    private static func printSamples(_ outcomes: [ModeOutcome]) {
        guard let outcome = outcomes.first(where: { $0.parties.contains { $0.sample != nil } }) else { return }
        let first = outcome.parties.compactMap(\.sample).first!
        print("\nGenerated by each party's \(outcome.mode.rawValue) model from the start of a line of its held-out text "
              + "(temperature \(first.temperature), top-k \(first.topK), seed \(first.seed)):")
        for party in outcome.parties {
            guard let sample = party.sample else { continue }
            print("  party \(party.party) (\(party.corpus)): \(escaped(sample.prompt)) -> \(escaped(sample.continuation))")
        }
    }

    /// Quotes bytes for one terminal line: printable ASCII as it is, and \n, \t, \" or \xNN for the rest.
    static func escaped(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\t"): text += "\\t"
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): text += "\\" + String(UnicodeScalar(byte))
            case 0x20..<0x7F: text += String(UnicodeScalar(byte))
            default: text += String(format: "\\x%02X", byte)
            }
        }
        return text + "\""
    }
}
