import Foundation

/// Checkpoints: a safetensors file holding the weights under their model
/// names, the AdamW moments, and metadata with the format, the model
/// configuration, the training options and the step counter.
///
/// Metadata keys: `format` = "pcmoe-checkpoint", `format_version` (see
/// ``formatVersion``), `config` (JSON of ``ModelConfig``), `training` (JSON of
/// ``TrainingOptions``), `step` (steps taken), `data_bytes` and
/// `data_fnv1a64` (length and FNV-1a hash of the training text). Moments are stored as
/// `optimizer.m.<name>` and `optimizer.v.<name>`.
public enum Checkpoint {
    /// The version this build writes and the only one it reads.
    public static let formatVersion = 1
    static let formatName = "pcmoe-checkpoint"

    /// Writes the trainer's model, optimizer and step to `path` atomically.
    /// - Throws: ``PCMoEError/io(_:)`` when the file cannot be written, and
    ///   ``PCMoEError/nonFinite(_:)`` when a weight is NaN or infinite. In
    ///   both cases an existing file at `path` is left untouched.
    public static func save(_ trainer: Trainer, to path: String) throws {
        if let bad = trainer.model.weights.named.first(where: { !$0.tensor.isFinite }) {
            throw PCMoEError.nonFinite(
                "\(path) was not written: the weights of \(bad.name) contain NaN or infinite values; lower the learning rate or the weight decay.")
        }
        let opt = trainer.optimizer
        var tensors = trainer.model.weights.named
        tensors += opt.firstMoments.map { ("optimizer.m." + $0.name, $0.tensor) }
        tensors += opt.secondMoments.map { ("optimizer.v." + $0.name, $0.tensor) }
        let metadata = [
            "format": formatName,
            "format_version": String(formatVersion),
            "config": try json(trainer.model.config),
            "training": try json(trainer.options),
            "step": String(opt.stepCount),
            "data_bytes": String(trainer.sampler.bytes.count),
            "data_fnv1a64": String(fingerprint(trainer.sampler.bytes)),
        ]
        try SafeTensors.write(path: path, tensors: tensors, metadata: metadata)
    }

    /// Rebuilds a trainer from a checkpoint, ready to take step `step + 1`.
    ///
    /// The model configuration and training options come from the file. The
    /// run continues bitwise as if it had not stopped only on the same
    /// training text. When the text differs from the one recorded in the
    /// checkpoint (its length and FNV-1a hash), `warn` receives a sentence
    /// that reports it.
    /// - Throws: ``PCMoEError/invalidCheckpoint(_:)`` for a foreign, truncated
    ///   or mismatched file, and the errors of ``Trainer/init(config:options:corpus:ledger:)``.
    public static func resume(from path: String, corpus: Corpus, ledger: MemoryLedger = MemoryLedger(),
                              warn: (String) -> Void = { _ in }) throws -> Trainer {
        let (file, header) = try open(path)
        let recorded = (file.metadata["data_bytes"], file.metadata["data_fnv1a64"])
        if recorded != (String(corpus.train.count), String(fingerprint(corpus.train))) {
            warn("the training text differs from the one \(path) was trained on (\(recorded.0 ?? "unknown") bytes then, \(corpus.train.count) now), so the resumed run will not match an uninterrupted one.")
        }
        let trainer = try Trainer(config: header.config, options: header.options, corpus: corpus, ledger: ledger)
        try loadTensors(trainer.model.weights.named, from: file, prefix: "")
        try loadTensors(trainer.optimizer.firstMoments, from: file, prefix: "optimizer.m.")
        try loadTensors(trainer.optimizer.secondMoments, from: file, prefix: "optimizer.v.")
        trainer.optimizer.stepCount = header.step
        return trainer
    }

    /// Loads the model of a checkpoint, without optimizer state, for evaluation.
    public static func loadModel(from path: String, ledger: MemoryLedger = MemoryLedger()) throws
        -> (model: MoEModel, header: CheckpointHeader) {
        let (file, header) = try open(path)
        let model = try MoEModel(config: header.config, seed: header.options.seed, ledger: ledger)
        try loadTensors(model.weights.named, from: file, prefix: "")
        return (model, header)
    }

    /// Reads the file and checks its format, version and metadata.
    public static func open(_ path: String) throws -> (SafeTensorsFile, CheckpointHeader) {
        let file = try SafeTensorsFile.read(path: path)
        let meta = file.metadata
        guard meta["format"] == formatName else {
            throw PCMoEError.invalidCheckpoint(
                "\(path) is a safetensors file but not a pcmoe checkpoint (its metadata has no format \"\(formatName)\").")
        }
        guard meta["format_version"] == String(formatVersion) else {
            throw PCMoEError.invalidCheckpoint(
                "\(path) has checkpoint format version \(meta["format_version"] ?? "none"); this build reads version \(formatVersion) only.")
        }
        let config: ModelConfig = try decode(meta["config"], "config", path)
        let keys = (try? JSONSerialization.jsonObject(with: Data((meta["config"] ?? "").utf8))) as? [String: Any]
        if let missing = ModelConfig.keyNames.first(where: { keys?[$0] == nil }) {
            throw PCMoEError.invalidCheckpoint("\(path) has no \"\(missing)\" in its configuration metadata.")
        }
        let options: TrainingOptions = try decode(meta["training"], "training", path)
        guard let stepText = meta["step"], let step = Int(stepText), step >= 0 else {
            throw PCMoEError.invalidCheckpoint("\(path) has no valid step counter in its metadata.")
        }
        do {
            try config.validate()
            try options.validate()
        } catch let error as PCMoEError {
            throw PCMoEError.invalidCheckpoint("\(path) contains an invalid configuration: \(error.message)")
        }
        guard step <= options.steps else {
            throw PCMoEError.invalidCheckpoint(
                "\(path) is invalid: its step counter \(step) is beyond the run length of \(options.steps) steps, so the file is damaged or edited.")
        }
        try checkShapes(file, config: config, path: path)
        return (file, CheckpointHeader(config: config, options: options, step: step))
    }

    /// Compares the stored shapes with those `config` implies, before any
    /// tensor is allocated, so that a damaged file cannot make the loader
    /// allocate a model of another size.
    private static func checkShapes(_ file: SafeTensorsFile, config: ModelConfig, path: String) throws {
        for (name, shape) in ModelWeights.shapes(config) {
            guard let stored = file.shape(of: name) else {
                throw PCMoEError.invalidCheckpoint("\(path) has no tensor \(name), which its configuration needs.")
            }
            guard stored == shape else {
                throw PCMoEError.invalidCheckpoint(
                    "\(path) stores \(name) with shape \(stored), but its configuration gives \(shape); the file is damaged or edited.")
            }
        }
    }

    /// Returns the FNV-1a 64-bit hash of `bytes`, to recognise the training text.
    static func fingerprint(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        fnv1a64(bytes)
    }

    private static func loadTensors(_ tensors: [NamedTensor], from file: SafeTensorsFile, prefix: String) throws {
        for (name, tensor) in tensors {
            try file.load(prefix + name, into: tensor)
            guard tensor.isFinite else {
                throw PCMoEError.invalidCheckpoint(
                    "\(file.path) has NaN or infinite values in \(prefix + name); resume from an earlier checkpoint.")
            }
        }
    }

    /// Encodes `value` as JSON with sorted keys, the form checkpoint metadata stores.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ text: String?, _ key: String, _ path: String) throws -> T {
        guard let text, let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
            throw PCMoEError.invalidCheckpoint("\(path) has a missing or unreadable \"\(key)\" entry in its metadata.")
        }
        return value
    }
}

/// The metadata of a checkpoint.
public struct CheckpointHeader: Equatable, Sendable {
    /// The model's sizes.
    public let config: ModelConfig
    /// The training options of the run that wrote it.
    public let options: TrainingOptions
    /// Steps taken when it was written.
    public let step: Int
}
