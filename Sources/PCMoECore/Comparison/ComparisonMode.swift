/// A way of training the parties' model, run by ``Comparison`` on the same
/// batches per party.
public enum ComparisonMode: String, CaseIterable, Codable, Sendable {
    /// PC-MoE: R rounds of n turns, experts sharded over the parties, tensors
    /// sent as f32. Every backbone starts from the same initial weights, as
    /// when all parties start from one public model.
    case pcmoe
    /// PC-MoE where each party's backbone starts from its own private seed.
    case pcmoePrivate = "pcmoe-private"
    /// PC-MoE with bf16 tensors on the wire.
    case pcmoeBF16 = "pcmoe-bf16"
    /// PC-MoE with f16 tensors on the wire.
    case pcmoeF16 = "pcmoe-f16"
    /// One model with every expert, n · R steps, batches taken from the
    /// parties in the same round-robin order.
    case centralized
    /// Each party alone for R steps with only the experts it owns
    /// (top-k becomes min(k, owned)).
    case localShard = "local-shard"
    /// Each party alone for R steps with every expert.
    case localFull = "local-full"

    /// The modes a comparison runs when none are chosen.
    public static let defaults: [ComparisonMode] = [.pcmoe, .pcmoePrivate, .centralized, .localShard, .localFull]

    /// The wire element type of a PC-MoE mode, nil for the others.
    public var wireType: WireDType? {
        switch self {
        case .pcmoe, .pcmoePrivate: return .f32
        case .pcmoeBF16: return .bf16
        case .pcmoeF16: return .f16
        default: return nil
        }
    }
}
