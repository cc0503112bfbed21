import Foundation
import PCMoECore

enum AttackCommand {
    static let help = """
        Usage: pcmoe attack [options]

        Measures how much of one party's training text another party can recover
        from what PC-MoE sends it. The parties train collaboratively as in the demo's
        pcmoe mode while the attacker keeps every row the victim sends to its experts,
        exactly as decoded from the wire. Then the attacker tries to recover the
        victim's byte at each of those tokens: k-means on each layer's rows labeled by
        byte frequency (cluster-frequency) or by a known share of the text
        (cluster-known); a classifier trained on its own text through its own
        backbone (inversion, per layer); the pattern of its experts each token picked
        (routing-frequency, routing-known); and a classifier trained through the
        victim's backbone (white-box, the bound for an attacker with the victim's
        weights). Each score is the share of bytes recovered, next to the share of
        the most frequent byte at the same tokens.

        Every combination of the listed defenses is one run from fresh weights on the
        same batches: --noise 1,2 --own-expert-layers 1 gives six runs, in this order:
        none, noise 1, noise 2, own experts, own experts with noise 1, and own experts
        with noise 2. Prints one table with a column per run and writes the figures to
        attack.json. Ctrl-C or SIGTERM stops at the end of the current round or attack
        stage, which can take a minute, and keeps the runs that finished.

        Data and output:
          --data PATH             one party's corpus; repeat once per party (default: the
                                  Debian corpora fortunes, jargon and devil)
          --out DIR               folder for attack.json, created if missing (default out/attack)
          --overwrite             allow replacing attack.json in --out
        Parties:
          --attacker N            the attacking party (default 1)
          --victim N              the attacked party (default 0)
        Defenses (every party uses them; the run without any comes first):
          --backbones LIST        shared, private or both, comma-separated (default shared):
                                  every backbone from the same seed, as in the pcmoe mode, or
                                  each from the party's own, as in pcmoe-private
          --noise LIST            Gaussian noise per value on sent rows, comma-separated
                                  standard deviations; one run each (0 adds none)
          --row-clip X            the L2 norm sent rows are clipped to under --noise
                                  (default sqrt(d_model), the norm of a normalized row)
          --own-expert-layers LIST  numbers N of first MoE layers routed only to the party's
                                  own experts; one run each (0 adds none)
        Attacks:
          --clusters N            k-means clusters per layer and window of rows (default 256)
          --window-turns N        victim turns whose rows are clustered and labeled together,
                                  as the backbone drifts; 0 for one window (default 0)
          --known-share X         share of the victim's observed tokens, drawn at random, whose
                                  bytes the known-plaintext attacks get (default 0.05)
          --inversion-rows N      the attacker's own rows per layer the classifiers train on
                                  (default 40000)
          --inversion-epochs N    passes over them (default 5)
          --inversion-hidden N    hidden width of the classifiers; 0 for softmax regression
                                  (default 256)
          --no-white-box          skip the white-box bound and its extra forward per round
          --attack-seed N         seeds k-means and the choice of inversion rows (default 1)
        Run:
          --rounds N              rounds; each party takes one turn per round (default 150)
          --quick                 a short run: 20 rounds and 16 validation windows
          --eval-windows N        validation sequences scored per party (default 64)
          --threads N             threads for the math, 1 to 1024 (default: the cores this
                                  process may use)
          --log-every N           rounds between progress lines (default 25)
        Model:
        \(ModelOptions.help(defaults: DemoCommand.demoConfig))
        Training (defaults: batch 16, lr 2e-3, warm-up 0.05, seed 1):
          --batch N  --lr X  --warmup X  --min-lr-ratio X  --weight-decay X  --clip X  --seed N
        """

    static func run(_ arguments: [String]) throws {
        if arguments.contains(where: { $0 == "--steps" || $0.hasPrefix("--steps=") }) {
            throw UsageError(message: "--steps is not an option of attack; give the number of rounds with --rounds.")
        }
        var args = Arguments(arguments)
        let paths = try args.values("--data")
        let folder = try args.value("--out") ?? "out/attack"
        let overwrite = args.flag("--overwrite")
        let quick = args.flag("--quick")
        let rounds = try args.int("--rounds") ?? (quick ? 20 : 150)
        let evalWindows = try args.int("--eval-windows") ?? (quick ? 16 : 64)
        let threads = try args.int("--threads", in: 1...1024)
        let logEvery = try args.int("--log-every") ?? 25
        let settings = try parseSettings(&args)
        let config = try ModelOptions.parse(&args, file: try args.value("--config"), base: DemoCommand.demoConfig)
        let defenses = try parseDefenses(&args, config: config)
        let options = try DemoCommand.parseTraining(&args, rounds: rounds)
        try args.finish()

        if paths.count == 1 {
            throw UsageError(message: "--data was given once; give it once per party, for at least two parties.")
        }
        try settings.validate(partyCount: paths.isEmpty ? DemoCommand.debianCorpora.count : paths.count)
        if let threads { setMathThreads(threads) }
        let corpora = try (paths.isEmpty ? DemoCommand.debianCorpora : paths).map { path in
            try Corpus.load(paths: [path]) { warning("\($0)") }
        }
        if Set(paths).count < paths.count {
            warning("two parties read the same --data; the attacker's reference frequencies may then be the victim's own.")
        }
        let comparison = try Comparison(config: config, options: options, corpora: corpora, evalWindows: evalWindows)
        let evaluation = try PrivacyEvaluation(comparison: comparison, settings: settings)
        for defense in defenses { try evaluation.check(defense) }
        let json = folder + "/attack.json"
        try OutputFiles.prepare(folder: folder, files: [json], replacing: overwrite)

        let (reports, stop) = try AttackRun(evaluation: evaluation, defenses: defenses, logEvery: logEvery).run()
        if !reports.isEmpty {
            // The table comes first, so that a failed write loses no figure.
            print(AttackTable(reports: reports, corpora: corpora.map(\.name)).render())
            try write(reports, comparison: comparison, settings: settings, to: json)
            print("results: \(json)")
        }
        if let stop { exit(128 + stop) }
    }
}
