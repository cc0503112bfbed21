import Foundation
import PCMoECore

enum LogitsCommand {
    static let help = """
        Usage: pcmoe logits --checkpoint FILE --input FILE --out FILE

        Writes the model's next-byte logits for the bytes of --input: one row of 256
        little-endian float32 values per input byte (the prediction after that byte),
        with no header. The input holds 1 to seq_len bytes. Meant for checking another
        implementation of the model against this one.

          --checkpoint FILE     checkpoint written by pcmoe train (required)
          --input FILE          the bytes to run (required)
          --out FILE            where to write the logits (required)
          --overwrite           allow --out to replace an existing file
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let path = try args.required("--checkpoint")
        let input = try args.required("--input")
        let out = try args.required("--out")
        let overwrite = args.flag("--overwrite")
        try args.finish()
        if OutputFiles.same(out, path) {
            throw PCMoEError.invalidArgument("--out \(out) is the checkpoint being read; give another file.")
        }
        try OutputFiles.check(out, option: "--out", replacing: overwrite)

        let (model, _) = try Checkpoint.loadModel(from: path)
        let bytes = try readSmallFile(input, limit: model.config.sequence, label: "input file")
        let logits = try model.logits(for: Array(bytes))
        let data = logits.withUnsafeBufferPointer { Data(buffer: $0) }
        do {
            try data.write(to: URL(fileURLWithPath: out), options: .atomic)
        } catch {
            throw PCMoEError.io("cannot write the logits file \(out): \(error.localizedDescription)")
        }
        print("wrote \(logits.count / ModelConfig.vocabulary) rows of 256 logits to \(out)")
    }
}
