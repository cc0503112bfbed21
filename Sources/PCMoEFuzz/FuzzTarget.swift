import CPCMoEABI
import PCMoEABI
import PCMoECore

/// The session the fuzzed party belongs to: small enough that a decoded
/// request computes in microseconds. The seed corpus comes from a real
/// session with these settings.
enum FuzzSession {
    static let model = ModelConfig(dModel: 16, heads: 2, layers: 2, experts: 6, topK: 2, expertHidden: 32, sequence: 16)
    static let session: UInt64 = 77
    static let partyCount = 3
    /// The fuzzed party; the inputs are messages addressed to it.
    static let fuzzedParty = 1

    static var training: TrainingOptions {
        var options = TrainingOptions()
        options.steps = 100
        options.batch = 2
        return options
    }
}

/// The fuzzed party, created through the C ABI on first use.
nonisolated(unsafe) private var fuzzedParty: OpaquePointer? = {
    var params = pcmoe_party_params()
    guard abiPartyDefaultParams(&params, MemoryLayout<pcmoe_party_params>.size) == PCMOE_OK else {
        fatalError("default params failed: \(String(cString: abiLastError()))")
    }
    let (m, t) = (FuzzSession.model, FuzzSession.training)
    params.party_id = UInt32(FuzzSession.fuzzedParty)
    params.party_count = UInt32(FuzzSession.partyCount)
    params.session = FuzzSession.session
    (params.d_model, params.n_heads, params.n_layers) = (UInt32(m.dModel), UInt32(m.heads), UInt32(m.layers))
    (params.n_experts, params.top_k) = (UInt32(m.experts), UInt32(m.topK))
    (params.expert_hidden, params.seq_len) = (UInt32(m.expertHidden), UInt32(m.sequence))
    (params.steps, params.batch) = (UInt64(t.steps), UInt32(t.batch))
    var party: OpaquePointer?
    guard abiPartyCreate(&params, &party) == PCMOE_OK else {
        fatalError("creating the fuzzed party failed: \(String(cString: abiLastError()))")
    }
    return party
}()

/// Hands one input to pcmoe_party_handle_message and checks what a host
/// may rely on: the status is OK or BAD_MESSAGE, a refusal has a message,
/// a reply goes to a real party, and the reply is freed.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var reply = pcmoe_message()
    let status = abiPartyHandleMessage(fuzzedParty, data, size, &reply)
    defer { abiMessageFree(&reply) }
    guard status == PCMOE_OK || status == PCMOE_ERROR_BAD_MESSAGE else {
        fatalError("status \(status.rawValue) for a \(size)-byte message: \(String(cString: abiLastError()))")
    }
    if status == PCMOE_ERROR_BAD_MESSAGE && abiLastError().pointee == 0 {
        fatalError("a rejected message left pcmoe_last_error() empty")
    }
    if reply.bytes != nil && !(-1..<Int32(FuzzSession.partyCount)).contains(reply.destination) {
        fatalError("a reply addressed to party \(reply.destination)")
    }
    return 0
}
