import COpenBLAS
import Foundation

/// The settings of ``AdamW``.
public struct AdamWSettings: Equatable, Sendable {
    /// β₁, the decay of the first moment.
    public var beta1 = 0.9
    /// β₂, the decay of the second moment.
    public var beta2 = 0.95
    /// ε, added to the root of the second moment.
    public var epsilon = 1e-8
    /// Decoupled weight decay, applied to matrices and not to norm weights.
    public var weightDecay = 0.1

    /// The defaults: β = (0.9, 0.95), ε = 1e-8, weight decay 0.1.
    public init() {}
}

/// A tensor with its checkpoint name.
public typealias NamedTensor = (name: String, tensor: Tensor)

/// AdamW with decoupled weight decay over a group of named tensors: a whole
/// model, a party's backbone or an owner's expert shard.
///
/// One ``step(rate:)`` does, for every tensor p with gradient g (t counts
/// steps from 1): p ← p·(1 − rate·wd) for matrices; m ← β₁m + (1−β₁)g;
/// v ← β₂v + (1−β₂)g²; p ← p − rate · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
/// Every tensor is stepped, also one whose gradient is zero this step.
public final class AdamW {
    /// The parameters it updates, in a fixed order.
    public let parameters: [NamedTensor]
    /// Their gradients, in the same order.
    public let gradients: [Tensor]
    /// First moments m, named like their parameters.
    public let firstMoments: [NamedTensor]
    /// Second moments v, named like their parameters.
    public let secondMoments: [NamedTensor]
    /// Steps taken so far, t.
    public var stepCount = 0
    /// β, ε and weight decay.
    public let settings: AdamWSettings

    /// An optimizer with zero moments for `parameters`, whose gradients are
    /// `gradients` in the same order.
    public init(parameters: [NamedTensor], gradients: [Tensor], settings: AdamWSettings = AdamWSettings(),
                ledger: MemoryLedger?) {
        precondition(parameters.count == gradients.count, "\(parameters.count) parameters, \(gradients.count) gradients")
        self.parameters = parameters
        self.gradients = gradients
        self.settings = settings
        firstMoments = parameters.map { ($0.name, Tensor($0.tensor.shape, kind: .optimizerState, ledger: ledger)) }
        secondMoments = parameters.map { ($0.name, Tensor($0.tensor.shape, kind: .optimizerState, ledger: ledger)) }
    }

    /// An optimizer over every tensor of `parameters`.
    public convenience init(parameters: ModelWeights, gradients: ModelWeights, settings: AdamWSettings = AdamWSettings(),
                            ledger: MemoryLedger?) {
        self.init(parameters: parameters.named, gradients: gradients.named.map(\.tensor), settings: settings,
                  ledger: ledger)
    }

    /// Applies one update at learning rate `rate`.
    public func step(rate: Double) {
        stepCount += 1
        let s = settings
        let c1 = Float(1 - pow(s.beta1, Double(stepCount))), c2 = Float(1 - pow(s.beta2, Double(stepCount)))
        let (b1, b2, eps, lr) = (Float(s.beta1), Float(s.beta2), Float(s.epsilon), Float(rate))
        for i in parameters.indices {
            let (name, p) = parameters[i]
            let (g, m, v) = (gradients[i], firstMoments[i].tensor, secondMoments[i].tensor)
            let decay: Float = ModelWeights.isNorm(name) ? 1 : 1 - lr * Float(s.weightDecay)
            parallelRanges(p.count) { range in
                for j in range {
                    let gj = g.data[j]
                    m.data[j] = b1 * m.data[j] + (1 - b1) * gj
                    v.data[j] = b2 * v.data[j] + (1 - b2) * gj * gj
                    let update = (m.data[j] / c1) / ((v.data[j] / c2).squareRoot() + eps)
                    p.data[j] = p.data[j] * decay - lr * update
                }
            }
        }
    }
}

/// Returns the global L2 norm of all gradients: each tensor's norm from
/// cblas_snrm2, which scales as it sums so that large finite values cannot
/// overflow, combined in Double.
public func globalNorm(_ gradients: ModelWeights) -> Double {
    globalNorm(gradients.named.map(\.tensor))
}

/// Returns the L2 norm of all values of `tensors`, computed as for a model.
public func globalNorm(_ tensors: [Tensor]) -> Double {
    var sum = 0.0
    for g in tensors {
        let norm = Double(cblas_snrm2(Int32(g.count), g.data, 1))
        sum += norm * norm
    }
    return sum.squareRoot()
}

/// Scales all gradients so that their global norm is at most `maxNorm`.
/// Returns the norm before clipping. Pass `norm` when it is already known.
@discardableResult
public func clipGradients(_ gradients: ModelWeights, maxNorm: Double, norm known: Double? = nil) -> Double {
    clipGradients(gradients.named.map(\.tensor), maxNorm: maxNorm, norm: known)
}

/// Scales `tensors` so that their joint norm is at most `maxNorm`. Returns
/// the norm before clipping.
@discardableResult
public func clipGradients(_ tensors: [Tensor], maxNorm: Double, norm known: Double? = nil) -> Double {
    let norm = known ?? globalNorm(tensors)
    guard norm > maxNorm else { return norm }
    let scale = Float(maxNorm / norm)
    for g in tensors {
        parallelRanges(g.count) { range in
            for i in range { g.data[i] *= scale }
        }
    }
    return norm
}
