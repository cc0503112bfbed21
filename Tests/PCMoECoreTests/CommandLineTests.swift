import Foundation
import Testing

/// Returns the path of the `pcmoe` executable built next to the tests (release or debug).
func pcmoeExecutable() -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let candidates = ["release", "debug"].map { "\(root)/.build/\($0)/pcmoe" }
    let existing = candidates.filter { FileManager.default.isExecutableFile(atPath: $0) }
    let modified = { (path: String) in
        (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
    }
    return existing.max { modified($0) < modified($1) }
}

struct CommandResult {
    let status: Int32
    let output: String
}

/// Runs pcmoe with `arguments` in `folder` and returns its exit status and
/// its standard output and error together.
func runPCMoE(_ arguments: [String], in folder: String, interruptAfter seconds: Double? = nil) throws -> CommandResult {
    guard let executable = pcmoeExecutable() else {
        Issue.record("pcmoe is not built; run 'swift build' first.")
        return CommandResult(status: -1, output: "")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    if let seconds {
        Thread.sleep(forTimeInterval: seconds)
        process.interrupt()
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Creates a folder with a small text corpus, `text.txt`, and returns its path.
func commandFolder() -> String {
    let folder = temporaryFolder()
    let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 400)
    #expect(FileManager.default.createFile(atPath: folder + "/text.txt", contents: Data(text.utf8)))
    return folder
}

let tinyModelArguments = ["--d-model", "16", "--heads", "2", "--layers", "1", "--experts", "4",
                          "--expert-hidden", "16", "--seq-len", "16", "--batch", "2"]

@Test func missingOutFolderFailsBeforeTraining() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let result = try runPCMoE(["train", "--data", "text.txt", "--steps", "5", "--out", "missing/x.ckpt"]
                              + tinyModelArguments, in: folder)
    #expect(result.status == 1)
    #expect(result.output.contains("does not exist"), "\(result.output)")
    #expect(!result.output.contains("step 1/"), "training must not start: \(result.output)")
}

@Test func logitsDoesNotReplaceCheckpoint() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let train = try runPCMoE(["train", "--data", "text.txt", "--steps", "2", "--out", "run.ckpt"] + tinyModelArguments,
                             in: folder)
    #expect(train.status == 0, "\(train.output)")
    let before = FileManager.default.contents(atPath: folder + "/run.ckpt")
    #expect(FileManager.default.createFile(atPath: folder + "/in.txt", contents: Data("hello".utf8)))
    let result = try runPCMoE(["logits", "--checkpoint", "run.ckpt", "--input", "in.txt", "--out", "run.ckpt"],
                              in: folder)
    #expect(result.status == 1)
    #expect(FileManager.default.contents(atPath: folder + "/run.ckpt") == before)
    let metrics = try runPCMoE(["train", "--data", "text.txt", "--steps", "2", "--metrics", "run.ckpt"]
                               + tinyModelArguments, in: folder)
    #expect(metrics.status == 1, "\(metrics.output)")
    #expect(FileManager.default.contents(atPath: folder + "/run.ckpt") == before)
}

@Test func interruptSavesCheckpoint() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let stopped = try runPCMoE(["train", "--data", "text.txt", "--steps", "1000000", "--out", "run.ckpt"]
                               + tinyModelArguments, in: folder, interruptAfter: 2)
    #expect(stopped.status == 130, "\(stopped.output)")
    #expect(stopped.output.contains("stopped by SIGINT"), "\(stopped.output)")
    #expect(FileManager.default.fileExists(atPath: folder + "/run.ckpt"))
    let eval = try runPCMoE(["eval", "--checkpoint", "run.ckpt", "--data", "text.txt", "--json"], in: folder)
    #expect(eval.status == 0, "\(eval.output)")
    let json = try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [String: Any]
    #expect((json?["step"] as? Int ?? 0) > 0)
}

@Test func unknownOptionIsAUsageError() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let result = try runPCMoE(["train", "--data", "text.txt", "--stpes", "5"], in: folder)
    #expect(result.status == 2)
    #expect(result.output.contains("unknown argument '--stpes'"), "\(result.output)")
}

@Test func metricsMayNotNameTheConfig() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let config = #"{"d_model": 16, "n_heads": 2, "n_layers": 1, "n_experts": 4, "expert_hidden": 16, "seq_len": 16}"#
    #expect(FileManager.default.createFile(atPath: folder + "/cfg.json", contents: Data(config.utf8)))
    let result = try runPCMoE(["train", "--data", "text.txt", "--config", "cfg.json", "--steps", "2", "--batch", "2",
                               "--metrics", "cfg.json"], in: folder)
    #expect(result.status == 1, "\(result.output)")
    #expect(result.output.contains("--metrics cfg.json"), "\(result.output)")
    #expect(FileManager.default.contents(atPath: folder + "/cfg.json") == Data(config.utf8))
}

@Test func emptyOptionValueIsAUsageError() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let result = try runPCMoE(["train", "--data", "text.txt", "--out", ""] + tinyModelArguments, in: folder)
    #expect(result.status == 2, "\(result.output)")
    #expect(result.output.contains("--out needs a value"), "\(result.output)")
}

@Test func logitsInputLongerThanContextIsRefused() throws {
    let folder = commandFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let train = try runPCMoE(["train", "--data", "text.txt", "--steps", "1", "--out", "run.ckpt"] + tinyModelArguments,
                             in: folder)
    #expect(train.status == 0, "\(train.output)")
    let result = try runPCMoE(["logits", "--checkpoint", "run.ckpt", "--input", "text.txt", "--out", "l.f32"],
                              in: folder)
    #expect(result.status == 1, "\(result.output)")
    #expect(result.output.contains("more than the 16 accepted"), "\(result.output)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/l.f32"))
}
