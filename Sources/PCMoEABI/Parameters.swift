import CPCMoEABI
import PCMoECore

/// Size of the first published version of each struct. When a struct
/// grows, these stay as they are.
enum FirstVersion {
    /// pcmoe_party_params up to backbone_seed. call_retries came later, and
    /// after it row_clip_norm, row_noise_sigma and own_expert_layers.
    static let partyParams = MemoryLayout<pcmoe_party_params>.offset(of: \pcmoe_party_params.backbone_seed)!
        + MemoryLayout<UInt64>.size
    static let turnResult = MemoryLayout<pcmoe_turn_result>.size
    static let evaluation = MemoryLayout<pcmoe_evaluation>.size
    /// pcmoe_metrics up to validation_bytes; the message counts came later.
    static let metrics = MemoryLayout<pcmoe_metrics>.offset(of: \pcmoe_metrics.validation_bytes)! + MemoryLayout<UInt64>.size
    static let sessionParams = MemoryLayout<pcmoe_session_params>.size
    static let networkCounters = MemoryLayout<pcmoe_network_counters>.size
    static let samplingParams = MemoryLayout<pcmoe_sampling_params>.size
}

/// The largest struct_size taken as a struct of a newer header rather than
/// as garbage.
let maxStructSize = 4096

/// Returns the defaults of pcmoe_party_params, taken from the core's defaults.
func defaultParams() -> pcmoe_party_params {
    let model = ModelConfig()
    let training = TrainingOptions()
    let settings = PartySettings(id: 0, partyCount: 1, session: 1)
    var p = pcmoe_party_params()
    p.struct_size = MemoryLayout<pcmoe_party_params>.size
    p.party_id = UInt32(settings.id)
    p.party_count = UInt32(settings.partyCount)
    p.session = settings.session
    p.d_model = UInt32(model.dModel)
    p.n_heads = UInt32(model.heads)
    p.n_layers = UInt32(model.layers)
    p.n_experts = UInt32(model.experts)
    p.top_k = UInt32(model.topK)
    p.expert_hidden = UInt32(model.expertHidden)
    p.seq_len = UInt32(model.sequence)
    p.steps = UInt64(training.steps)
    p.batch = UInt32(training.batch)
    p.learning_rate = training.learningRate
    p.warmup_fraction = training.warmupFraction
    p.min_lr_ratio = training.minLearningRateRatio
    p.weight_decay = training.weightDecay
    p.clip_norm = training.clipNorm
    p.seed = training.seed
    p.wire_type = Int32(settings.wireType.rawValue)
    p.call_timeout_seconds = settings.callTimeout
    p.use_backbone_seed = 0
    p.backbone_seed = 0
    p.call_retries = UInt32(settings.callRetries)
    p.row_clip_norm = settings.rowNoise?.clipNorm ?? 0
    p.row_noise_sigma = settings.rowNoise?.sigma ?? 0
    p.own_expert_layers = UInt32(settings.ownExpertLayers)
    return p
}

/// Reads a caller's params: the first struct_size bytes over the defaults.
func readParams(_ pointer: UnsafePointer<pcmoe_party_params>) throws -> pcmoe_party_params {
    let given = pointer.pointee.struct_size
    guard given >= FirstVersion.partyParams, given <= maxStructSize else {
        throw ABIError.invalid("params->struct_size is \(UInt(bitPattern: given)); prepare the params with "
                                   + "pcmoe_party_default_params.")
    }
    var params = defaultParams()
    withUnsafeMutableBytes(of: &params) { target in
        target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(given, target.count)))
    }
    return params
}

/// Converts params to the core configuration they describe.
func partyConfig(_ p: pcmoe_party_params) throws -> PartyConfig {
    var settings = PartySettings(id: Int(p.party_id), partyCount: Int(p.party_count), session: p.session)
    guard let wireType = WireDType(rawValue: Int(p.wire_type)) else {
        throw ABIError.invalid("wire_type is \(p.wire_type); it must be PCMOE_WIRE_F32, PCMOE_WIRE_BF16 or PCMOE_WIRE_F16.")
    }
    settings.wireType = wireType
    settings.callTimeout = p.call_timeout_seconds
    settings.callRetries = Int(p.call_retries)
    settings.backboneSeed = p.use_backbone_seed != 0 ? p.backbone_seed : nil
    settings.rowNoise = try RowNoise.fromValues(clipNorm: p.row_clip_norm, sigma: p.row_noise_sigma,
                                                clipName: "row_clip_norm", sigmaName: "row_noise_sigma")
    settings.ownExpertLayers = Int(p.own_expert_layers)
    let model = ModelConfig(dModel: Int(p.d_model), heads: Int(p.n_heads), layers: Int(p.n_layers),
                            experts: Int(p.n_experts), topK: Int(p.top_k), expertHidden: Int(p.expert_hidden),
                            sequence: Int(p.seq_len))
    guard p.steps <= UInt64(TrainingOptions.maxSteps) else {
        throw ABIError.invalid("steps is \(p.steps); it must be from 1 to \(TrainingOptions.maxSteps).")
    }
    var training = TrainingOptions()
    training.steps = Int(p.steps)
    training.batch = Int(p.batch)
    training.learningRate = p.learning_rate
    training.warmupFraction = p.warmup_fraction
    training.minLearningRateRatio = p.min_lr_ratio
    training.weightDecay = p.weight_decay
    training.clipNorm = p.clip_norm
    training.seed = p.seed
    let config = PartyConfig(settings: settings, model: model, training: training)
    // Party.init checks own_expert_layers too, under another name. Checking
    // here names the C field, after validate() has checked the party id and
    // count that the check needs.
    try config.validate()
    try settings.validateOwnExpertLayers(for: model, name: "own_expert_layers")
    return config
}

@_cdecl("pcmoe_party_default_params")
public func abiPartyDefaultParams(_ params: UnsafeMutablePointer<pcmoe_party_params>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let target = try required(params, "params")
        guard size >= FirstVersion.partyParams, size <= maxStructSize else {
            throw ABIError.invalid("params_size is \(UInt(bitPattern: size)); pass sizeof(pcmoe_party_params).")
        }
        var defaults = defaultParams()
        defaults.struct_size = min(size, MemoryLayout<pcmoe_party_params>.size)
        write(defaults, to: target, size: size)
    }
}

/// Returns the defaults of pcmoe_session_params, taken from the core's defaults.
func defaultSessionParams() -> pcmoe_session_params {
    let options = SessionOptions(checkpointFolder: "")
    var p = pcmoe_session_params()
    p.struct_size = MemoryLayout<pcmoe_session_params>.size
    p.checkpoint_folder = nil
    p.checkpoint_every = UInt32(options.checkpointEvery)
    p.join_timeout_seconds = options.joinTimeout
    p.wait_timeout_seconds = options.waitTimeout
    p.max_rejoins = UInt32(options.maxRejoins)
    p.evaluation_windows = UInt64(options.evaluationWindows ?? 0)
    return p
}

/// Reads a caller's session params: the first struct_size bytes over the defaults.
func readSessionParams(_ pointer: UnsafePointer<pcmoe_session_params>) throws -> pcmoe_session_params {
    let given = pointer.pointee.struct_size
    guard given >= FirstVersion.sessionParams, given <= maxStructSize else {
        throw ABIError.invalid("params->struct_size is \(UInt(bitPattern: given)); prepare the params with "
                                   + "pcmoe_session_default_params.")
    }
    var params = defaultSessionParams()
    withUnsafeMutableBytes(of: &params) { target in
        target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(given, target.count)))
    }
    return params
}

/// Converts session params to the core's options, which the runner checks.
func sessionOptions(_ p: pcmoe_session_params) throws -> SessionOptions {
    guard let folder = p.checkpoint_folder else {
        throw ABIError.invalid("checkpoint_folder is NULL; give the folder for this party's session checkpoints.")
    }
    var options = SessionOptions(checkpointFolder: String(cString: folder))
    options.checkpointEvery = Int(p.checkpoint_every)
    options.joinTimeout = p.join_timeout_seconds
    options.waitTimeout = p.wait_timeout_seconds
    options.maxRejoins = Int(p.max_rejoins)
    options.evaluationWindows = p.evaluation_windows == 0 ? nil : Int(clamping: p.evaluation_windows)
    try options.validate()
    return options
}

@_cdecl("pcmoe_session_default_params")
public func abiSessionDefaultParams(_ params: UnsafeMutablePointer<pcmoe_session_params>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let target = try required(params, "params")
        guard size >= FirstVersion.sessionParams, size <= maxStructSize else {
            throw ABIError.invalid("params_size is \(UInt(bitPattern: size)); pass sizeof(pcmoe_session_params).")
        }
        var defaults = defaultSessionParams()
        defaults.struct_size = min(size, MemoryLayout<pcmoe_session_params>.size)
        write(defaults, to: target, size: size)
    }
}
