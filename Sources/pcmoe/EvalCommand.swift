import Foundation
import PCMoECore

enum EvalCommand {
    static let help = """
        Usage: pcmoe eval --checkpoint FILE --data PATH [--data PATH ...] [options]

        Scores a checkpoint on the validation part (the last 10 %) of the given data
        and prints the loss in nats and in bits per byte.

          --checkpoint FILE     checkpoint written by pcmoe train (required)
          --data PATH           text file, gzip file (found by content: .gz, .dz) or folder;
                                repeatable (required)
          --split NAME          validation, train or all (default validation)
          --batch N             sequences per forward pass (default 16)
          --max-windows N       most sequences to score; 0 for all (default 0)
          --threads N           threads for the math, 1 to 1024 (default: the cores this process may use)
          --json                print one JSON object instead of text
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let path = try args.required("--checkpoint")
        let paths = try args.requiredValues("--data")
        let split = try args.value("--split") ?? "validation"
        guard ["validation", "train", "all"].contains(split) else {
            throw UsageError(message: "--split must be validation, train or all, got '\(split)'.")
        }
        let batch = try args.int("--batch") ?? 16
        let maxWindows = try args.int("--max-windows", in: 0...Int.max) ?? 0
        let threads = try args.int("--threads", in: 1...1024)
        let json = args.flag("--json")
        try args.finish()

        if let threads { setMathThreads(threads) }
        let (model, header) = try Checkpoint.loadModel(from: path)
        let corpus = try Corpus.load(paths: paths) { warning("\($0)") }
        let bytes = part(of: corpus, split: split)
        let r = try model.evaluate(bytes, batch: batch, maxWindows: maxWindows > 0 ? maxWindows : nil)
        if json {
            let object: [String: Any] = ["checkpoint": path, "step": header.step, "split": split, "loss": r.loss,
                                         "bpb": r.bitsPerByte, "tokens": r.tokens]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@ (step %ld), %@ split: loss %.4f nats, %.3f bits per byte over %ld bytes",
                         path, header.step, split, r.loss, r.bitsPerByte, r.tokens))
        }
    }

    /// Returns the split `split` names: "validation" (the last 10 %), "train", or anything else for all.
    static func part(of corpus: Corpus, split: String) -> ArraySlice<UInt8> {
        switch split {
        case "validation": return corpus.validation
        case "train": return corpus.train
        default: return corpus.bytes[...]
        }
    }
}
