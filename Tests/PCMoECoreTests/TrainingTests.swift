import Foundation
import Testing
@testable import PCMoECore

/// Synthetic text with structure a tiny model can learn quickly.
func patternCorpus(bytes count: Int = 20_000) -> Corpus {
    let words = ["alpha ", "beta ", "gamma ", "delta ", "epsilon "]
    var rng = SplitMix64(seed: 9)
    var bytes: [UInt8] = []
    while bytes.count < count { bytes += Array(words[Int(rng.next() % 5)].utf8) }
    return Corpus(name: "pattern", bytes: Array(bytes.prefix(count)))
}

func tinyOptions(steps: Int) -> TrainingOptions {
    var o = TrainingOptions()
    o.steps = steps
    o.batch = 4
    o.learningRate = 3e-3
    o.seed = 42
    return o
}

func losses(_ trainer: Trainer, steps: Int) throws -> [Double] {
    try (0..<steps).map { _ in try trainer.trainStep().loss }
}

@Test func sameSeedGivesBitwiseSameLosses() throws {
    let a = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 12), corpus: patternCorpus())
    let b = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 12), corpus: patternCorpus())
    let first = try losses(a, steps: 12), second = try losses(b, steps: 12)
    #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
}

@Test func sameSeedBitwiseOnWiderModel() throws {
    // Wide enough that the element-wise kernels split their work over threads.
    let config = ModelConfig(dModel: 64, heads: 4, layers: 2, experts: 4, topK: 2, expertHidden: 128, sequence: 32)
    var options = tinyOptions(steps: 3)
    options.batch = 8
    let a = try Trainer(config: config, options: options, corpus: patternCorpus())
    let b = try Trainer(config: config, options: options, corpus: patternCorpus())
    let first = try losses(a, steps: 3), second = try losses(b, steps: 3)
    #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
    let sameWeights = a.model.weights.lmHead.values == b.model.weights.lmHead.values
    #expect(sameWeights)
}

@Test func threadCountLeavesLossesUnchanged() throws {
    let config = ModelConfig(dModel: 64, heads: 4, layers: 2, experts: 4, topK: 2, expertHidden: 128, sequence: 32)
    var options = tinyOptions(steps: 3)
    options.batch = 8
    let saved = mathThreads
    defer { setMathThreads(saved) }
    var curves: [[UInt64]] = []
    for threads in [1, 3] {
        setMathThreads(threads)
        let trainer = try Trainer(config: config, options: options, corpus: patternCorpus())
        curves.append(try losses(trainer, steps: 3).map(\.bitPattern))
    }
    #expect(curves[0] == curves[1])
}

@Test func otherSeedGivesOtherLosses() throws {
    var options = tinyOptions(steps: 4)
    let a = try Trainer(config: tinyConfig(), options: options, corpus: patternCorpus())
    options.seed = 43
    let b = try Trainer(config: tinyConfig(), options: options, corpus: patternCorpus())
    #expect(try losses(a, steps: 4) != losses(b, steps: 4))
}

@Test func resumeContinuesBitwiseSameLosses() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/run.ckpt"
    let corpus = patternCorpus()

    let straight = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 20), corpus: corpus)
    let expected = try losses(straight, steps: 20)

    let first = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 20), corpus: corpus)
    let head = try losses(first, steps: 8)
    try Checkpoint.save(first, to: path)
    let resumed = try Checkpoint.resume(from: path, corpus: corpus)
    #expect(resumed.step == 8)
    let tail = try losses(resumed, steps: 12)
    #expect((head + tail).map(\.bitPattern) == expected.map(\.bitPattern))
}

@Test func checkpointKeepsWeightsAndNames() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/w.ckpt"
    let trainer = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 3), corpus: patternCorpus())
    _ = try losses(trainer, steps: 2)
    try Checkpoint.save(trainer, to: path)

    let file = try SafeTensorsFile.read(path: path)
    for name in ["tok_emb", "layers.1.attn.wq", "layers.0.moe.experts.3.down", "final_norm.weight", "lm_head",
                 "optimizer.m.lm_head", "optimizer.v.layers.0.moe.router"] {
        #expect(file.names.contains(name), "\(name) missing")
    }
    #expect(file.shape(of: "layers.0.moe.experts.3.gate") == [8, 6])
    #expect(file.metadata["step"] == "2")
    let (model, header) = try Checkpoint.loadModel(from: path)
    #expect(header.step == 2)
    #expect(model.weights.lmHead.values == trainer.model.weights.lmHead.values)
}

@Test func lossFallsOnPatternText() throws {
    let trainer = try Trainer(config: tinyConfig(), options: tinyOptions(steps: 150), corpus: patternCorpus())
    let curve = try losses(trainer, steps: 150)
    let early = curve.prefix(10).reduce(0, +) / 10, late = curve.suffix(10).reduce(0, +) / 10
    #expect(late < early - 1.5, "loss went from \(early) to \(late)")
}

/// The acceptance run on real text: a short training run on Debian's
/// dict-devil must end at least 1 bit per byte below the corpus's unigram
/// byte entropy on its validation split.
@Test func realCorpusBeatsUnigramEntropy() throws {
    let path = "/usr/share/dictd/devil.dict.dz"
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("\(path) is missing; run 'make deps' to install dict-devil.")
        return
    }
    let corpus = try Corpus.load(paths: [path]) { _ in }
    let config = ModelConfig(dModel: 64, heads: 2, layers: 2, experts: 4, topK: 2, expertHidden: 128, sequence: 64)
    var options = TrainingOptions()
    options.steps = 300
    options.learningRate = 3e-3
    let trainer = try Trainer(config: config, options: options, corpus: corpus)
    for _ in 0..<options.steps { _ = try trainer.trainStep() }

    let entropy = Corpus.unigramEntropyBits(corpus.bytes[...])
    let result = try trainer.model.evaluate(corpus.validation, maxWindows: 200)
    #expect(entropy > 4, "unigram entropy \(entropy)")
    #expect(entropy < 5, "unigram entropy \(entropy)")
    #expect(result.bitsPerByte <= entropy - 1, "validation \(result.bitsPerByte) bits per byte, entropy \(entropy)")
}
