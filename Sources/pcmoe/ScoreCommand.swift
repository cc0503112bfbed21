import Foundation
import PCMoECore

enum ScoreCommand {
    static let help = """
        Usage: pcmoe score MODEL --data PATH [--data PATH ...] [options]

        Scores text under a model and prints its loss in nats and in bits per
        byte. A party's model is its own backbone with every party's experts:
        the experts run at their owners, which keep nothing of the request.

        \(ModelSource.help)
        \(DefenseOptions.help)
        Text:
          --data PATH           text file, gzip file or folder; repeatable (required)
          --split NAME          all, validation (the last 10 %) or train (default all)
          --max-windows N       most sequences to score; 0 for all (default 0)
          --threads N           threads for the math, 1 to 1024
          --json                print one JSON object instead of text
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let source = try ModelSource.parse(&args)
        let calls = try CallOptions.parse(&args)
        let defenses = try DefenseOptions.parse(&args)
        let paths = try args.requiredValues("--data")
        let split = try args.value("--split") ?? "all"
        guard ["validation", "train", "all"].contains(split) else {
            throw UsageError(message: "--split must be all, validation or train, got '\(split)'.")
        }
        let maxWindows = try args.int("--max-windows", in: 0...Int.max) ?? 0
        let threads = try args.int("--threads", in: 1...1024)
        let json = args.flag("--json")
        try args.finish()
        try calls.check(for: source)
        try defenses.check(for: source)

        if let threads { setMathThreads(threads) }
        Log.set(level: .warning) { _, message in warning(message) }
        let corpus = try Corpus.load(paths: paths) { warning("\($0)") }
        let bytes = EvalCommand.part(of: corpus, split: split)
        let model = try OpenedModel.open(source, calls: calls, defenses: defenses)
        let result = try model.evaluate(bytes, maxWindows: maxWindows > 0 ? maxWindows : nil)
        if json {
            let object: [String: Any] = ["model": model.summary, "split": split, "loss": result.loss,
                                         "bpb": result.bitsPerByte, "tokens": result.tokens]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@, %@ split: loss %.4f nats, %.4f bits per byte over %ld bytes", model.summary, split,
                         result.loss, result.bitsPerByte, result.tokens))
        }
        try checkStandardOutput()
    }
}
