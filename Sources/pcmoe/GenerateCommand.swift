import Foundation
import PCMoECore

enum GenerateCommand {
    static let help = """
        Usage: pcmoe generate MODEL (--prompt TEXT | --prompt-file FILE) [options]

        Continues a prompt with a model and writes the new bytes to standard
        output as they are drawn. The prompt itself is not written. Each byte
        comes from the model's next-byte distribution after the last seq-len
        bytes of the text so far; every byte runs the whole window through the
        model again, so a d_model 64 model makes a few hundred bytes a second
        on two cores. On a terminal, control bytes other than line end and tab
        are shown as \\xNN; elsewhere, and with --raw, the bytes go out exactly
        as drawn. While it runs, a party's model also serves that party's
        experts to the others, as 'pcmoe serve' does. SIGINT or SIGTERM ends
        it at once.

        \(ModelSource.help)
        \(DefenseOptions.help)
        Generation:
          --prompt TEXT         the text to continue
          --prompt-file FILE    the text to continue, read from a file; - reads standard input
          --max-bytes N         bytes to produce, 1 to 1000000 (default 200)
          --temperature X       0 for the most likely byte each time (greedy), up to 100 (default 1)
          --top-k N             draw from the N most likely bytes only; 0 for all (default 0)
          --top-p X             draw from the most likely bytes whose probabilities sum to X,
                                above 0 and at most 1 (default 1)
          --seed N              seed of the draws; the same seed gives the same bytes, unless
                                --row-noise adds fresh noise (default 1)
          --newline             write a line end after the bytes
          --raw                 write control bytes as they are, also on a terminal
          --threads N           threads for the math, 1 to 1024
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let source = try ModelSource.parse(&args)
        let calls = try CallOptions.parse(&args)
        let defenses = try DefenseOptions.parse(&args)
        let prompt = try readPrompt(&args)
        let maxBytes = try args.int("--max-bytes", in: 1...1_000_000) ?? 200
        let sampling = try parseSampling(&args)
        let newline = args.flag("--newline")
        let raw = args.flag("--raw")
        let threads = try args.int("--threads", in: 1...1024)
        try args.finish()
        try calls.check(for: source)
        try defenses.check(for: source)

        if let threads { setMathThreads(threads) }
        Log.set(level: .warning) { _, message in warning(message) }
        let model = try OpenedModel.open(source, calls: calls, defenses: defenses)
        let escape = !raw && isatty(STDOUT_FILENO) != 0
        var failed = false
        _ = try model.generate(prompt: prompt, maxBytes: maxBytes, sampling: sampling) { byte in
            let text = escape ? visible(byte) : [byte]
            failed = fwrite(text, 1, text.count, stdout) != text.count || fflush(stdout) != 0
            return !failed
        }
        if newline { print("") }
        try checkStandardOutput(failed: failed)
    }

    /// Returns the byte, or \xNN for a control byte other than line end and tab.
    private static func visible(_ byte: UInt8) -> [UInt8] {
        guard byte < 0x20 && byte != 0x0A && byte != 0x09 || byte == 0x7F else { return [byte] }
        return Array(String(format: "\\x%02X", byte).utf8)
    }

    private static func readPrompt(_ args: inout Arguments) throws -> [UInt8] {
        let text = try args.value("--prompt")
        let file = try args.value("--prompt-file")
        switch (text, file) {
        case (let text?, nil):
            return Array(text.utf8)
        case (nil, let file?):
            let handle = file == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: file)
            guard let handle else { throw PCMoEError.io("the prompt file \(file) cannot be opened.") }
            let data: Data
            do {
                data = try handle.readToEnd() ?? Data()
            } catch {
                throw PCMoEError.io("the prompt file \(file) cannot be read: \(error.localizedDescription)")
            }
            guard !data.isEmpty else { throw UsageError(message: "the prompt file \(file) is empty.") }
            return Array(data)
        default:
            throw UsageError(message: "give one of --prompt and --prompt-file.")
        }
    }

    /// Reads the sampling options; the library checks their ranges.
    static func parseSampling(_ args: inout Arguments) throws -> SamplingOptions {
        var sampling = SamplingOptions()
        if let value = try args.double("--temperature") { sampling.temperature = value }
        if let value = try args.int("--top-k", in: 0...ModelConfig.vocabulary) { sampling.topK = value }
        if let value = try args.double("--top-p") { sampling.topP = value }
        if let text = try args.value("--seed") {
            guard let seed = UInt64(text) else {
                throw UsageError(message: "--seed expects a non-negative integer, got '\(text)'.")
            }
            sampling.seed = seed
        }
        do {
            try sampling.validate()
        } catch let error as PCMoEError {
            throw UsageError(message: error.message)
        }
        return sampling
    }
}

/// Throws when writing to standard output failed (a full disk, a closed pipe).
func checkStandardOutput(failed: Bool = false) throws {
    if failed || fflush(stdout) != 0 || ferror(stdout) != 0 {
        throw PCMoEError.io("writing to standard output failed: \(String(cString: strerror(errno))).")
    }
}
