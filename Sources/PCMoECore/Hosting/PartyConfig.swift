import Foundation

/// Everything needed to create a hosted party: its identity, the model
/// sizes and run settings every party shares, and its training data.
///
/// A party configuration file is JSON with four sections, each optional
/// except `party`, and each key optional with the defaults of the Swift
/// types:
///
/// ```json
/// {
///   "party": {"id": 0, "party_count": 3, "session": 42, "wire_type": "bf16",
///             "call_timeout_seconds": 120, "call_retries": 2, "backbone_seed": 7,
///             "row_clip_norm": 8, "row_noise_sigma": 0.5, "own_expert_layers": 1},
///   "model": {"d_model": 64, "n_heads": 4, "n_layers": 2, "n_experts": 6,
///             "top_k": 2, "expert_hidden": 128, "seq_len": 32},
///   "training": {"steps": 300, "batch": 8, "learning_rate": 0.002,
///                "warmup_fraction": 0.05, "min_lr_ratio": 0.1,
///                "weight_decay": 0.1, "clip_norm": 1.0, "seed": 1},
///   "data": ["corpus.txt"]
/// }
/// ```
///
/// `row_clip_norm` and `row_noise_sigma` set ``PartySettings/rowNoise``:
/// both 0 or absent send rows exact, a clip norm alone clips them, and a
/// sigma above 0 needs a clip norm above 0. `own_expert_layers` sets
/// ``PartySettings/ownExpertLayers`` and is checked against the model in
/// ``load(path:)``.
///
/// Unknown keys are refused, so a misspelt setting is never ignored.
/// Relative data paths are taken from the folder of the file.
public struct PartyConfig: Equatable, Sendable {
    /// Identity, session and wire settings.
    public var settings: PartySettings
    /// The model sizes.
    public var model: ModelConfig
    /// The run settings.
    public var training: TrainingOptions
    /// Files or folders of training text, loaded when the party is created.
    public var data: [String]

    /// A configuration from its parts.
    public init(settings: PartySettings, model: ModelConfig = ModelConfig(), training: TrainingOptions = TrainingOptions(),
                data: [String] = []) {
        self.settings = settings
        self.model = model
        self.training = training
        self.data = data
    }

    /// Reads and validates a party configuration file.
    /// - Throws: ``PCMoEError/io(_:)`` when the file cannot be read and
    ///   ``PCMoEError/invalidArgument(_:)`` naming the file and the first
    ///   bad key or value.
    public static func load(path: String) throws -> PartyConfig {
        let url = URL(fileURLWithPath: path)
        // stat follows symbolic links, so a link to a JSON file is accepted.
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PCMoEError.io("the party configuration \(path) does not exist or cannot be read; check the path.")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw PCMoEError.invalidArgument("the party configuration \(path) is not a regular file; give the path of a JSON file.")
        }
        let size = Int(info.st_size)
        guard size <= maxFileBytes else {
            throw PCMoEError.invalidArgument("the party configuration \(path) has \(size) bytes; the limit is \(maxFileBytes).")
        }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw PCMoEError.io("the party configuration \(path) cannot be read: \(error.localizedDescription)")
        }
        var config = try parse(bytes, name: path)
        do {
            try config.validate()
            try config.settings.validateOwnExpertLayers(for: config.model, name: "\"party.own_expert_layers\"")
        } catch let error as PCMoEError {
            throw PCMoEError.invalidArgument("the party configuration \(path) is invalid: \(error.message)")
        }
        let folder = url.deletingLastPathComponent()
        config.data = config.data.map { $0.hasPrefix("/") ? $0 : folder.appendingPathComponent($0).path }
        return config
    }

    /// The largest configuration file accepted: 1 MiB.
    public static let maxFileBytes = 1 << 20

    /// Parses the JSON text of a party configuration; `name` labels messages.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad key or value.
    public static func parse(_ json: Data, name: String) throws -> PartyConfig {
        do {
            let file = try JSONDecoder().decode(ConfigFile.self, from: json)
            guard let party = file.party else {
                throw PCMoEError.invalidArgument("it has no \"party\" section; give at least the party id, count and session.")
            }
            return PartyConfig(settings: try party.settings(), model: file.model ?? ModelConfig(),
                               training: file.training?.options() ?? TrainingOptions(), data: file.data ?? [])
        } catch let error as PCMoEError {
            throw PCMoEError.invalidArgument("the party configuration \(name) is invalid: \(error.message)")
        } catch let error as DecodingError {
            throw PCMoEError.invalidArgument("the party configuration \(name) is invalid: \(decodingErrorSentence(error))")
        } catch {
            throw PCMoEError.invalidArgument("the party configuration \(name) is not valid JSON: \(error.localizedDescription)")
        }
    }

    /// Checks every part.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        try settings.validate()
        try model.validate()
        try training.validate()
        try model.validateMemory(batch: training.batch)
    }
}

/// Turns a decoding error into a sentence naming the key path.
func decodingErrorSentence(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "the top level" : "\"" + keys.joined(separator: ".") + "\""
    }
    switch error {
    case .typeMismatch(let type, let context):
        return "\(path(context)) must be \(typeName(type))."
    case .valueNotFound(let type, let context):
        return "\(path(context)) is null; it must be \(typeName(type))."
    case .keyNotFound(let key, _):
        return "the key \"\(key.stringValue)\" is missing."
    case .dataCorrupted(let context):
        return "\(path(context)): \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is UInt64.Type: return "an integer"
    case is Double.Type, is Decimal.Type: return "a number"
    case is String.Type: return "a string"
    default:
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "a list" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "a \(name)"
    }
}

/// Refuses any key of `decoder`'s object that is not in `known`.
func refuseUnknownKeys(_ decoder: Decoder, known: [String], section: String) throws {
    let all = try decoder.container(keyedBy: AnyCodingKey.self)
    if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
        throw PCMoEError.invalidArgument("unknown key \"\(unknown.stringValue)\" in \(section); the keys are "
                                             + known.joined(separator: ", ") + ".")
    }
}

/// The file's top level.
private struct ConfigFile: Decodable {
    var party: PartySection?
    var model: ModelConfig?
    var training: TrainingSection?
    var data: [String]?

    enum CodingKeys: String, CodingKey { case party, model, training, data }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(decoder, known: ["party", "model", "training", "data"], section: "the top level")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        party = try c.decodeIfPresent(PartySection.self, forKey: .party)
        model = try c.decodeIfPresent(ModelConfig.self, forKey: .model)
        training = try c.decodeIfPresent(TrainingSection.self, forKey: .training)
        data = try c.decodeIfPresent([String].self, forKey: .data)
    }
}

/// The `party` section.
private struct PartySection: Decodable {
    var id: Int?, partyCount: Int?, session: UInt64?, wireType: String?, callTimeout: Double?, callRetries: Int?
    var backboneSeed: UInt64?
    var rowClipNorm: Double?, rowNoiseSigma: Double?, ownExpertLayers: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, partyCount = "party_count", session, wireType = "wire_type", callTimeout = "call_timeout_seconds"
        case callRetries = "call_retries", backboneSeed = "backbone_seed"
        case rowClipNorm = "row_clip_norm", rowNoiseSigma = "row_noise_sigma", ownExpertLayers = "own_expert_layers"
    }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "\"party\"")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeInteger(Int.self, forKey: .id)
        partyCount = try c.decodeInteger(Int.self, forKey: .partyCount)
        session = try c.decodeInteger(UInt64.self, forKey: .session)
        wireType = try c.decodeIfPresent(String.self, forKey: .wireType)
        callTimeout = try c.decodeIfPresent(Double.self, forKey: .callTimeout)
        callRetries = try c.decodeInteger(Int.self, forKey: .callRetries)
        backboneSeed = try c.decodeInteger(UInt64.self, forKey: .backboneSeed)
        rowClipNorm = try c.decodeIfPresent(Double.self, forKey: .rowClipNorm)
        rowNoiseSigma = try c.decodeIfPresent(Double.self, forKey: .rowNoiseSigma)
        ownExpertLayers = try c.decodeInteger(Int.self, forKey: .ownExpertLayers)
    }

    func settings() throws -> PartySettings {
        guard let id, let partyCount, let session else {
            throw PCMoEError.invalidArgument("the \"party\" section needs \"id\", \"party_count\" and \"session\".")
        }
        var settings = PartySettings(id: id, partyCount: partyCount, session: session)
        if let wireType {
            guard let type = WireDType.allCases.first(where: { $0.description == wireType }) else {
                throw PCMoEError.invalidArgument("\"party.wire_type\" is \"\(wireType)\"; it must be f32, bf16 or f16.")
            }
            settings.wireType = type
        }
        settings.callTimeout = callTimeout ?? settings.callTimeout
        settings.callRetries = callRetries ?? settings.callRetries
        settings.backboneSeed = backboneSeed
        settings.rowNoise = try RowNoise.fromValues(clipNorm: rowClipNorm ?? 0, sigma: rowNoiseSigma ?? 0,
                                                    clipName: "\"party.row_clip_norm\"", sigmaName: "\"party.row_noise_sigma\"")
        if let ownExpertLayers {
            guard ownExpertLayers >= 0 else {
                throw PCMoEError.invalidArgument("\"party.own_expert_layers\" is \(ownExpertLayers); give 0 or more.")
            }
            settings.ownExpertLayers = ownExpertLayers
        }
        return settings
    }
}

/// The `training` section: every key of ``TrainingOptions``, each optional.
private struct TrainingSection: Decodable {
    var steps: Int?, batch: Int?, seed: UInt64?
    var rates: [TrainingOptions.CodingKeys: Double] = [:]

    init(from decoder: Decoder) throws {
        let rateKeys: [TrainingOptions.CodingKeys] = [.learningRate, .warmupFraction, .minLearningRateRatio,
                                                      .weightDecay, .clipNorm]
        let known = ["steps", "batch", "seed"] + rateKeys.map(\.stringValue)
        try refuseUnknownKeys(decoder, known: known, section: "\"training\"")
        let c = try decoder.container(keyedBy: TrainingOptions.CodingKeys.self)
        steps = try c.decodeInteger(Int.self, forKey: .steps)
        batch = try c.decodeInteger(Int.self, forKey: .batch)
        seed = try c.decodeInteger(UInt64.self, forKey: .seed)
        for key in rateKeys where c.contains(key) {
            rates[key] = try c.decode(Double.self, forKey: key)
        }
    }

    func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.steps = steps ?? o.steps
        o.batch = batch ?? o.batch
        o.learningRate = rates[.learningRate] ?? o.learningRate
        o.warmupFraction = rates[.warmupFraction] ?? o.warmupFraction
        o.minLearningRateRatio = rates[.minLearningRateRatio] ?? o.minLearningRateRatio
        o.weightDecay = rates[.weightDecay] ?? o.weightDecay
        o.clipNorm = rates[.clipNorm] ?? o.clipNorm
        o.seed = seed ?? o.seed
        return o
    }
}
