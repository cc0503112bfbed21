import Foundation
import Testing
@testable import PCMoECore

/// Returns the message of the PCMoEError that `body` throws, or nil.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as PCMoEError {
        return error.message
    } catch {
        return "unexpected error type: \(error)"
    }
}

@Test(arguments: [
    (ModelConfig(dModel: 10, heads: 3, layers: 1, experts: 2, topK: 1, expertHidden: 4, sequence: 4), "not divisible by n_heads 3"),
    (ModelConfig(dModel: 6, heads: 2, layers: 1, experts: 2, topK: 1, expertHidden: 4, sequence: 4), "head width d_model / n_heads = 3 is odd"),
    (ModelConfig(dModel: 8, heads: 2, layers: 1, experts: 2, topK: 3, expertHidden: 4, sequence: 4), "top_k 3 is larger than n_experts 2"),
    (ModelConfig(dModel: 0, heads: 2, layers: 1, experts: 2, topK: 1, expertHidden: 4, sequence: 4), "d_model is 0"),
    (ModelConfig(dModel: 8, heads: 2, layers: -1, experts: 2, topK: 1, expertHidden: 4, sequence: 4), "n_layers is -1"),
    (ModelConfig(dModel: 8, heads: 2, layers: 1, experts: 2, topK: 1, expertHidden: 4, sequence: 0), "seq_len is 0"),
])
func invalidConfigIsRejected(config: ModelConfig, expected: String) {
    let message = errorMessage { _ = try MoEModel(config: config, seed: 1) }
    #expect(message?.contains(expected) == true, "got: \(message ?? "no error")")
}

@Test func hugeSizesAreRefusedBeforeAllocating() {
    let wide = ModelConfig(dModel: 1 << 20, heads: 2, layers: 1, experts: 4, topK: 1, expertHidden: 1 << 20, sequence: 4)
    let message = errorMessage { _ = try MoEModel(config: wide, seed: 1) }
    #expect(message?.contains("BLAS call can index") == true, "got: \(message ?? "no error")")

    let deep = ModelConfig(dModel: 4096, heads: 32, layers: 64, experts: 8, topK: 2, expertHidden: 16384, sequence: 4)
    let deepMessage = errorMessage { _ = try MoEModel(config: deep, seed: 1) }
    #expect(deepMessage?.contains("GiB of memory of this machine") == true, "got: \(deepMessage ?? "no error")")

    var options = tinyOptions(steps: 1)
    options.batch = 1 << 40
    let batchMessage = errorMessage { _ = try Trainer(config: tinyConfig(), options: options, corpus: patternCorpus()) }
    #expect(batchMessage != nil, "a batch of 2^40 sequences must be refused")
}

@Test func invalidOptionsAreRejected() {
    var options = TrainingOptions()
    options.steps = 0
    #expect(errorMessage { try options.validate() }?.contains("steps is 0") == true)
    options = TrainingOptions()
    options.learningRate = -1
    #expect(errorMessage { try options.validate() }?.contains("learning rate is -1") == true)
    options = TrainingOptions()
    options.batch = -3
    #expect(errorMessage { try options.validate() }?.contains("batch is -3") == true)
}

@Test func corpusShorterThanOneSequence() {
    let corpus = Corpus(name: "short.txt", bytes: Array(repeating: 65, count: 40))
    let message = errorMessage {
        _ = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 1), corpus: Corpus(name: "short.txt", bytes: Array(corpus.bytes.prefix(30))))
    }
    #expect(message?.contains("short.txt") == true, "got: \(message ?? "no error")")
}

/// Saves a trainer to a fresh checkpoint, for tampering, and returns its path.
func savedCheckpoint(_ folder: String) throws -> String {
    let path = folder + "/good.ckpt"
    let trainer = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 2), corpus: patternCorpus())
    _ = try trainer.trainStep()
    try Checkpoint.save(trainer, to: path)
    return path
}

@Test func truncatedCheckpointIsRejected() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = try savedCheckpoint(folder)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    for cut in [4, 100, data.count / 2, data.count - 1] {
        let broken = folder + "/cut\(cut).ckpt"
        try data.prefix(cut).write(to: URL(fileURLWithPath: broken))
        let message = errorMessage { _ = try Checkpoint.loadModel(from: broken) }
        #expect(message?.contains(broken) == true, "cut at \(cut): \(message ?? "no error")")
    }
}

@Test func foreignFileIsRejected() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/notes.txt"
    try Data("These are notes, not weights.\n".utf8).write(to: URL(fileURLWithPath: path))
    let message = errorMessage { _ = try Checkpoint.loadModel(from: path) }
    #expect(message?.contains("not a safetensors file") == true, "got: \(message ?? "no error")")

    // A valid safetensors file without pcmoe metadata.
    let other = folder + "/other.safetensors"
    try SafeTensors.write(path: other, tensors: [("x", Tensor([2]))], metadata: [:])
    let otherMessage = errorMessage { _ = try Checkpoint.loadModel(from: other) }
    #expect(otherMessage?.contains("not a pcmoe checkpoint") == true, "got: \(otherMessage ?? "no error")")
}

@Test func otherFormatVersionIsRejected() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let good = try savedCheckpoint(folder)
    let file = try SafeTensorsFile.read(path: good)
    var metadata = file.metadata
    metadata["format_version"] = "99"
    let path = folder + "/v99.ckpt"
    let model = try Checkpoint.loadModel(from: good).model
    try SafeTensors.write(path: path, tensors: model.weights.named, metadata: metadata)
    let message = errorMessage { _ = try Checkpoint.loadModel(from: path) }
    #expect(message?.contains("version 99") == true, "got: \(message ?? "no error")")
}

@Test func checkpointOfOtherShapeIsRejected() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let good = try savedCheckpoint(folder)
    var metadata = try SafeTensorsFile.read(path: good).metadata
    // The metadata claims d_model 16 while the tensors have d_model 8.
    metadata["config"] = metadata["config"]!.replacingOccurrences(of: "\"d_model\":8", with: "\"d_model\":16")
    let model = try Checkpoint.loadModel(from: good).model
    let path = folder + "/shape.ckpt"
    try SafeTensors.write(path: path, tensors: model.weights.named, metadata: metadata)
    let message = errorMessage { _ = try Checkpoint.loadModel(from: path) }
    #expect(message?.contains("tok_emb") == true, "got: \(message ?? "no error")")
}

@Test func nonFiniteLossNamesTheStep() throws {
    let trainer = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 5), corpus: patternCorpus())
    _ = try trainer.trainStep()
    trainer.model.weights.finalNorm[0] = .nan
    let message = errorMessage { _ = try trainer.trainStep() }
    #expect(message?.contains("step 2") == true, "got: \(message ?? "no error")")
    #expect(message?.contains("final_norm.weight") == true, "got: \(message ?? "no error")")
    #expect(trainer.step == 1, "a failed step must not advance the optimizer")
}

/// Local experts whose backward returns NaN input gradients, as a faulty
/// remote owner might.
final class PoisonedExperts: ExpertCompute {
    let inner: ExpertCompute

    init(_ inner: ExpertCompute) { self.inner = inner }

    func forward(layer: Int, batches: [ExpertBatch], keepForBackward: Bool) throws -> [Tensor] {
        try inner.forward(layer: layer, batches: batches, keepForBackward: keepForBackward)
    }

    func backward(layer: Int, gradients: [ExpertBatch]) throws -> [Tensor] {
        let grads = try inner.backward(layer: layer, gradients: gradients)
        for g in grads where g.count > 0 { g[0] = .nan }
        return grads
    }

    func discardPending() { inner.discardPending() }
}

@Test func nonFiniteGradientNamesTheTensor() throws {
    let trainer = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 5), corpus: patternCorpus())
    let before = trainer.model.weights.lmHead.values
    trainer.model.experts = PoisonedExperts(trainer.model.experts)
    let message = errorMessage { _ = try trainer.trainStep() }
    #expect(message?.contains("step 1") == true, "got: \(message ?? "no error")")
    #expect(message?.contains("the gradient of tok_emb") == true, "got: \(message ?? "no error")")
    #expect(trainer.step == 0)
    #expect(trainer.model.weights.lmHead.values == before, "a failed step must leave the weights unchanged")
}

@Test func tooManyExpertsAreRefused() {
    let config = ModelConfig(dModel: 16, heads: 2, layers: 1, experts: 1 << 20, topK: 1, expertHidden: 16, sequence: 4)
    let message = errorMessage { _ = try MoEModel(config: config, seed: 1) }
    #expect(message?.contains("n_experts is 1048576; the largest supported value is 4096") == true, "got: \(message ?? "no error")")
}

@Test func checkpointWithNaNWeightsIsRejected() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let good = try savedCheckpoint(folder)
    let metadata = try SafeTensorsFile.read(path: good).metadata
    let trainer = try Checkpoint.resume(from: good, corpus: patternCorpus())
    trainer.model.weights.layers[0].wq[3] = .nan

    // Checkpoint.save refuses such weights, so the file is written directly.
    let saveMessage = errorMessage { try Checkpoint.save(trainer, to: folder + "/refused.ckpt") }
    #expect(saveMessage?.contains("was not written") == true, "got: \(saveMessage ?? "no error")")
    #expect(!FileManager.default.fileExists(atPath: folder + "/refused.ckpt"))
    let path = folder + "/nan.ckpt"
    let optimizer = trainer.optimizer
    let tensors = trainer.model.weights.named + optimizer.firstMoments.map { ("optimizer.m." + $0.name, $0.tensor) }
        + optimizer.secondMoments.map { ("optimizer.v." + $0.name, $0.tensor) }
    try SafeTensors.write(path: path, tensors: tensors, metadata: metadata)

    let message = errorMessage { _ = try Checkpoint.loadModel(from: path) }
    #expect(message?.contains("layers.0.attn.wq") == true, "got: \(message ?? "no error")")
    let resumeMessage = errorMessage { _ = try Checkpoint.resume(from: path, corpus: patternCorpus()) }
    #expect(resumeMessage?.contains("NaN or infinite") == true, "got: \(resumeMessage ?? "no error")")
}

@Test func checkpointStepBeyondRunIsRejected() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let good = try savedCheckpoint(folder)
    var metadata = try SafeTensorsFile.read(path: good).metadata
    metadata["step"] = "1000"
    let model = try Checkpoint.loadModel(from: good).model
    let path = folder + "/step.ckpt"
    try SafeTensors.write(path: path, tensors: model.weights.named, metadata: metadata)
    let message = errorMessage { _ = try Checkpoint.loadModel(from: path) }
    #expect(message?.contains("step counter 1000 is beyond the run length of 2 steps") == true, "got: \(message ?? "no error")")
}

@Test func resumeOnOtherTextWarns() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let good = try savedCheckpoint(folder)
    var warnings: [String] = []
    _ = try Checkpoint.resume(from: good, corpus: patternCorpus()) { warnings.append($0) }
    #expect(warnings.isEmpty)
    _ = try Checkpoint.resume(from: good, corpus: patternCorpus(bytes: 30_000)) { warnings.append($0) }
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains("differs") == true)
}

@Test func configFileKeysAreChecked() throws {
    let partial = try JSONDecoder().decode(ModelConfig.self, from: Data(#"{"d_model": 64, "n_heads": 2}"#.utf8))
    #expect(partial.dModel == 64)
    #expect(partial.heads == 2)
    #expect(partial.layers == ModelConfig().layers)
    let message = errorMessage {
        _ = try JSONDecoder().decode(ModelConfig.self, from: Data(#"{"d_modle": 64}"#.utf8))
    }
    #expect(message?.contains("unknown model configuration key \"d_modle\"") == true, "got: \(message ?? "no error")")
}

@Test func shapesListMatchesAllocatedTensors() {
    let config = tinyConfig()
    let weights = ModelWeights(config, kind: .parameters, ledger: nil)
    let listed = ModelWeights.shapes(config)
    #expect(listed.map(\.name) == weights.named.map(\.name))
    #expect(listed.map(\.shape) == weights.named.map(\.tensor.shape))
}

@Test func oversizedFileIsRefusedUnread() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/sparse.txt"
    #expect(FileManager.default.createFile(atPath: path, contents: Data("text".utf8)))
    let handle = FileHandle(forWritingAtPath: path)!
    try handle.truncate(atOffset: UInt64(Corpus.maxBytes) + 1)
    try handle.close()
    let message = errorMessage { _ = try Corpus.load(paths: [path]) { _ in } }
    #expect(message?.contains("MiB limit") == true, "got: \(message ?? "no error")")
}

@Test func hiddenEntriesInFoldersAreSkipped() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.createDirectory(atPath: folder + "/.git", withIntermediateDirectories: true)
    #expect(FileManager.default.createFile(atPath: folder + "/.git/config", contents: Data("[core]\n".utf8)))
    #expect(FileManager.default.createFile(atPath: folder + "/.notes", contents: Data("hidden\n".utf8)))
    #expect(FileManager.default.createFile(atPath: folder + "/a.txt", contents: Data("visible text\n".utf8)))
    var warnings: [String] = []
    let corpus = try Corpus.load(paths: [folder]) { warnings.append($0) }
    #expect(corpus.bytes == Array("visible text\n".utf8))
    #expect(warnings.count == 2)
    #expect(warnings.contains { $0.contains(".git") })
    #expect(warnings.contains { $0.contains(".notes") })
}

@Test func normOfHugeFiniteGradientIsFinite() throws {
    // Summing squares in float32 overflows at about 1.8e19; the norm must not.
    let trainer = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 5), corpus: patternCorpus())
    trainer.model.gradients.lmHead[0] = 1e20
    trainer.model.gradients.lmHead[1] = 1
    let norm = clipGradients(trainer.model.gradients, maxNorm: 1)
    #expect(abs(norm / 1e20 - 1) < 1e-6, "norm \(norm)")
    #expect(trainer.model.gradients.lmHead[0] == 1)
    #expect(trainer.model.gradients.lmHead[1] > 0)
}

@Test func plantedLinkAtTemporaryPathIsNotFollowed() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let victim = folder + "/victim.txt"
    #expect(FileManager.default.createFile(atPath: victim, contents: Data("keep me".utf8)))
    let target = folder + "/run.ckpt"
    try FileManager.default.createSymbolicLink(atPath: "\(target).tmp.\(getpid())", withDestinationPath: victim)
    try SafeTensors.write(path: target, tensors: [("x", Tensor([2]))], metadata: [:])
    #expect(FileManager.default.contents(atPath: victim) == Data("keep me".utf8))
    let attributes = try FileManager.default.attributesOfItem(atPath: target)
    #expect(attributes[.type] as? FileAttributeType == .typeRegular)
}

@Test func overflowingModelFailsEvaluation() throws {
    let model = try MoEModel(config: tinyConfig(), seed: 1)
    for i in 0..<model.weights.lmHead.count { model.weights.lmHead[i] = 3e38 }
    let message = errorMessage { _ = try model.evaluate(patternCorpus().validation) }
    #expect(message?.contains("validation loss") == true, "got: \(message ?? "no error")")
}

@Test func decayTimesRateOfOneIsRejected() {
    var options = TrainingOptions()
    options.learningRate = 1
    options.weightDecay = 1
    #expect(errorMessage { try options.validate() }?.contains("flip the sign") == true)
}

@Test func checkpointHeaderLimitIsCheckedEarly() {
    let config = ModelConfig(dModel: 2, heads: 1, layers: 8, experts: 4096, topK: 1, expertHidden: 1, sequence: 2)
    let message = errorMessage { _ = try MoEModel(config: config, seed: 1) }
    #expect(message?.contains("more than a checkpoint header can hold") == true, "got: \(message ?? "no error")")
}

@Test func nullConfigValueIsAnError() {
    let message = errorMessage {
        _ = try JSONDecoder().decode(ModelConfig.self, from: Data(#"{"d_model": null}"#.utf8))
    }
    #expect(message != nil, "null must not silently become the default")
}
