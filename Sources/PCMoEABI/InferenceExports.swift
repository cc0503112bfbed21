import CPCMoEABI
import PCMoECore

/// The maximum number of bytes one pcmoe_party_generate call produces.
let maxGeneratedBytes = 1_000_000

/// Returns the defaults of pcmoe_sampling_params, taken from the core's defaults.
private func defaultSamplingParams() -> pcmoe_sampling_params {
    let d = SamplingOptions()
    return pcmoe_sampling_params(struct_size: MemoryLayout<pcmoe_sampling_params>.size, temperature: d.temperature,
                                 top_k: UInt32(d.topK), top_p: d.topP, seed: d.seed)
}

@_cdecl("pcmoe_sampling_default_params")
public func abiSamplingDefaultParams(_ params: UnsafeMutablePointer<pcmoe_sampling_params>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let target = try required(params, "params")
        guard size >= FirstVersion.samplingParams, size <= maxStructSize else {
            throw ABIError.invalid("params_size is \(UInt(bitPattern: size)); pass sizeof(pcmoe_sampling_params).")
        }
        var defaults = defaultSamplingParams()
        defaults.struct_size = min(size, MemoryLayout<pcmoe_sampling_params>.size)
        write(defaults, to: target, size: size)
    }
}

/// Reads the host's sampling params (NULL for the defaults) and checks them.
private func samplingOptions(_ pointer: UnsafePointer<pcmoe_sampling_params>?) throws -> SamplingOptions {
    var options = SamplingOptions()
    guard let pointer else { return options }
    let given = pointer.pointee.struct_size
    guard given >= FirstVersion.samplingParams, given <= maxStructSize else {
        throw ABIError.invalid("sampling->struct_size is \(UInt(bitPattern: given)); prepare it with "
                                   + "pcmoe_sampling_default_params.")
    }
    var params = defaultSamplingParams()
    withUnsafeMutableBytes(of: &params) { target in
        target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(given, target.count)))
    }
    options.temperature = params.temperature
    options.topK = Int(params.top_k)
    options.topP = params.top_p
    options.seed = params.seed
    try options.validate()
    return options
}

@_cdecl("pcmoe_party_generate")
public func abiPartyGenerate(_ party: OpaquePointer?, _ prompt: UnsafePointer<UInt8>?, _ promptSize: Int, _ maxBytes: Int,
                             _ sampling: UnsafePointer<pcmoe_sampling_params>?, _ callback: pcmoe_byte_fn?,
                             _ context: UnsafeMutableRawPointer?, _ produced: UnsafeMutablePointer<Int>?) -> pcmoe_status {
    var count = 0
    defer { produced?.pointee = count }
    return abiCall {
        let host = try PartyHandle.host(party)
        let text = try bytes(prompt, promptSize, "the prompt", limit: Corpus.maxBytes, status: PCMOE_ERROR_INVALID_ARGUMENT)
        guard maxBytes >= 0, maxBytes <= maxGeneratedBytes else {
            throw ABIError.invalid("max_bytes is \(UInt(bitPattern: maxBytes)); give 0 to \(maxGeneratedBytes).")
        }
        let options = try samplingOptions(sampling)
        let sink = try required(callback, "callback")
        _ = try host.generate(prompt: text, maxBytes: maxBytes, sampling: options) { byte in
            count += 1
            return sink(context, byte) == 0
        }
    }
}

@_cdecl("pcmoe_party_allow_export")
public func abiPartyAllowExport(_ party: OpaquePointer?, _ ids: UnsafePointer<UInt32>?, _ count: Int) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        guard count >= 0, count <= PartySettings.maxParties else {
            throw ABIError.invalid("count is \(UInt(bitPattern: count)); a session has at most \(PartySettings.maxParties) parties.")
        }
        let list = count == 0 ? [] : Array(UnsafeBufferPointer(start: try required(ids, "party_ids"), count: count))
        try host.party.allowExport(to: Set(list.map(Int.init)))
    }
}

@_cdecl("pcmoe_party_export_model")
public func abiPartyExportModel(_ party: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> pcmoe_status {
    abiCall { try PartyHandle.host(party).exportModel(to: try string(path, "path")) }
}
