import Foundation
import PCMoECore

enum TrainCommand {
    static let help = """
        Usage: pcmoe train --data PATH [--data PATH ...] [options]

        Trains one MoE byte-level model on the bytes of the given files and folders.
        The last 10 % of the bytes are held out for validation.

        Data and output:
          --data PATH           text file, gzip file (found by content: .gz, .dz) or folder;
                                repeatable (required)
          --out FILE            checkpoint written at the end, every --save-every steps, and
                                on Ctrl-C or SIGTERM (default: the --resume file, if any)
          --overwrite           allow --out to replace an existing file
          --resume FILE         continue the run saved in FILE with the same --data; its model
                                and training options apply, so no model or training option
                                may be given
          --metrics FILE        append one JSON object per step and per evaluation, after a
                                "start" object that marks the beginning of each run
        Model:
        \(ModelOptions.help())
        Training:
          --steps N             optimizer steps in the run (default 1000)
          --batch N             sequences per step (default 16)
          --lr X                peak learning rate (default 3e-4)
          --warmup X            share of the steps spent in linear warm-up (default 0.05)
          --min-lr-ratio X      final learning rate as a share of the peak (default 0.1)
          --weight-decay X      decoupled weight decay on matrices (default 0.1)
          --clip X              largest global gradient norm (default 1.0)
          --seed N              fixes initialisation and batch order (default 1)
        Reporting:
          --threads N           threads for the math, 1 to 1024 (default: the cores this process may use)
          --log-every N         steps between progress lines when not on a terminal (default 50)
          --eval-every N        steps between validation runs; 0 for only at the end (default 0)
          --eval-windows N      most validation sequences per evaluation; 0 for all (default 0)
          --save-every N        steps between checkpoints when --out is set; 0 for only at the end (default 0)
        """

    static let trainingNames = ["--steps", "--batch", "--lr", "--warmup", "--min-lr-ratio", "--weight-decay",
                                "--clip", "--seed"]

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let paths = try args.requiredValues("--data")
        let resume = try args.value("--resume")
        let out = try args.value("--out") ?? resume
        let overwrite = args.flag("--overwrite")
        let metricsPath = try args.value("--metrics")
        let report = try ReportOptions.parse(&args)
        let fixedByCheckpoint = (ModelOptions.names + trainingNames).filter { name in
            arguments.contains { $0 == name || $0.hasPrefix(name + "=") }
        }
        if resume != nil, let first = fixedByCheckpoint.first {
            throw UsageError(message: "\(first) cannot be combined with --resume: the checkpoint fixes the model and the training options.")
        }
        let configPath = try args.value("--config")
        let config = try ModelOptions.parse(&args, file: configPath)
        let options = try parseTraining(&args)
        try args.finish()

        if report.saveEvery > 0, out == nil {
            throw UsageError(message: "--save-every needs --out, the file to save to.")
        }
        if let out {
            try OutputFiles.check(out, option: "--out", replacing: OutputFiles.same(out, resume) || overwrite)
        }
        if let metricsPath {
            try OutputFiles.checkMetrics(metricsPath, inputs: [out, resume, configPath] + paths)
        }
        if let threads = report.threads { setMathThreads(threads) }
        let corpus = try Corpus.load(paths: paths) { warning("\($0)") }
        let trainer = try resume.map { try Checkpoint.resume(from: $0, corpus: corpus) { warning($0) } }
            ?? Trainer(config: config, options: options, corpus: corpus)
        let metrics = try metricsPath.map { try MetricsWriter(path: $0) }
        try metrics?.start(trainer, resumedFrom: resume)
        try TrainingLoop(trainer: trainer, corpus: corpus, out: out.map(SaveTarget.init), report: report,
                         metrics: metrics).run()
    }

    /// Reads the training options over `base` and validates them.
    static func parseTraining(_ args: inout Arguments, base: TrainingOptions = TrainingOptions()) throws -> TrainingOptions {
        var o = base
        if let v = try args.int("--steps") { o.steps = v }
        if let v = try args.int("--batch") { o.batch = v }
        if let v = try args.double("--lr") { o.learningRate = v }
        if let v = try args.double("--warmup") { o.warmupFraction = v }
        if let v = try args.double("--min-lr-ratio") { o.minLearningRateRatio = v }
        if let v = try args.double("--weight-decay") { o.weightDecay = v }
        if let v = try args.double("--clip") { o.clipNorm = v }
        if let v = try args.value("--seed") {
            guard let seed = UInt64(v) else { throw UsageError(message: "--seed expects a non-negative integer, got '\(v)'.") }
            o.seed = seed
        }
        try o.validate()
        return o
    }
}

/// How often to report, evaluate and save.
struct ReportOptions {
    var threads: Int?
    var logEvery = 50
    var evalEvery = 0
    var evalWindows = 0
    var saveEvery = 0

    static func parse(_ args: inout Arguments) throws -> ReportOptions {
        var r = ReportOptions()
        r.threads = try args.int("--threads", in: 1...1024)
        if let v = try args.int("--log-every") { r.logEvery = v }
        if let v = try args.int("--eval-every", in: 0...Int.max) { r.evalEvery = v }
        if let v = try args.int("--eval-windows", in: 0...Int.max) { r.evalWindows = v }
        if let v = try args.int("--save-every", in: 0...Int.max) { r.saveEvery = v }
        return r
    }
}
