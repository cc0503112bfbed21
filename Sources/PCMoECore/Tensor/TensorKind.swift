/// The purpose of a tensor's bytes, as a ``MemoryLedger`` counts them.
public enum TensorKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Model weights.
    case parameters
    /// Gradients of the weights.
    case gradients
    /// Optimizer moments.
    case optimizerState
    /// Values kept between the forward and the backward pass, and scratch.
    case activations
    /// Rows an expert owner keeps between the forward and the backward it
    /// serves for another party's turn.
    case servedActivations

    /// The name used in reports and JSON metrics.
    public var description: String {
        switch self {
        case .parameters: return "parameters"
        case .gradients: return "gradients"
        case .optimizerState: return "optimizer_state"
        case .activations: return "activations"
        case .servedActivations: return "served_activations"
        }
    }
}
