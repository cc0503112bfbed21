/// The rows of one expert's batch: the post-norm hidden rows routed to it, or
/// the gradients of its outputs.
public struct ExpertBatch {
    /// The expert's index within the layer.
    public let expert: Int
    /// [m, d]
    public let rows: Tensor
    /// The token index (within the forward's B·T tokens) of each row, or
    /// empty where the caller does not know it, as at an owner.
    public let positions: [Int32]

    /// Creates a batch of rows for `expert`, from the tokens at `positions`.
    public init(expert: Int, rows: Tensor, positions: [Int32] = []) {
        self.expert = expert
        self.rows = rows
        self.positions = positions
    }
}

/// Runs the experts of MoE layers. The model calls it once per layer with one
/// batch per expert that got rows, so an implementation may send those
/// batches to other owners together.
public protocol ExpertCompute: AnyObject {
    /// Returns expert(rows), un-weighted, for each batch, in the same order.
    /// With `keepForBackward` the implementation keeps what the backward needs.
    func forward(layer: Int, batches: [ExpertBatch], keepForBackward: Bool) throws -> [Tensor]

    /// Given ∂L/∂output for the batches of the last forward of `layer` (same
    /// experts, same order), accumulates the experts' weight gradients and
    /// returns ∂L/∂rows for each.
    func backward(layer: Int, gradients: [ExpertBatch]) throws -> [Tensor]

    /// Drops whatever was kept for a backward that will not come.
    func discardPending()

    /// Returns the experts the router of `layer` may pick, one flag per
    /// expert, or nil when it may pick any.
    func allowedExperts(layer: Int) -> [Bool]?
}

extension ExpertCompute {
    /// Returns nil: the router may pick any expert.
    public func allowedExperts(layer: Int) -> [Bool]? { nil }
}
