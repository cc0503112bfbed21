/// The settings of a training run: run length, batch, optimizer and seed.
public struct TrainingOptions: Codable, Equatable, Sendable {
    /// Optimizer steps in the whole run; the learning-rate schedule spans them.
    public var steps = 1000
    /// Sequences per batch, B.
    public var batch = 16
    /// Peak learning rate, reached at the end of warm-up.
    public var learningRate = 3e-4
    /// Share of `steps` spent in linear warm-up.
    public var warmupFraction = 0.05
    /// The final learning rate as a share of the peak.
    public var minLearningRateRatio = 0.1
    /// Decoupled weight decay on matrices.
    public var weightDecay = 0.1
    /// The largest global gradient norm; larger gradients are scaled down to it.
    public var clipNorm = 1.0
    /// Fixes initialisation and batch order.
    public var seed: UInt64 = 1

    /// The largest run length accepted, 2⁴⁰ steps, which keeps step counts
    /// exact in Double arithmetic.
    public static let maxSteps = 1 << 40

    /// The defaults: 1000 steps of batch 16, peak rate 3e-4 with 5 % warm-up, seed 1.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, batch, learningRate = "learning_rate", warmupFraction = "warmup_fraction"
        case minLearningRateRatio = "min_lr_ratio", weightDecay = "weight_decay", clipNorm = "clip_norm", seed
    }

    /// Checks every value.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        if steps <= 0 || steps > Self.maxSteps {
            throw PCMoEError.invalidArgument("steps is \(steps); it must be an integer from 1 to \(Self.maxSteps).")
        }
        if batch <= 0 { throw PCMoEError.invalidArgument("batch is \(batch); it must be a positive integer.") }
        let rates = [("learning rate", learningRate, false), ("warm-up fraction", warmupFraction, true),
                     ("minimum learning-rate ratio", minLearningRateRatio, true),
                     ("weight decay", weightDecay, true), ("clip norm", clipNorm, false)]
        for (name, value, zeroAllowed) in rates where !value.isFinite || value < 0 || (!zeroAllowed && value == 0) {
            let need = zeroAllowed ? "a finite number of at least 0" : "a finite number above 0"
            throw PCMoEError.invalidArgument("the \(name) is \(value); it must be \(need).")
        }
        if warmupFraction > 1 {
            throw PCMoEError.invalidArgument("the warm-up fraction is \(warmupFraction); it must be at most 1.")
        }
        if minLearningRateRatio > 1 {
            throw PCMoEError.invalidArgument("the minimum learning-rate ratio is \(minLearningRateRatio); it must be at most 1.")
        }
        if learningRate > 1 {
            throw PCMoEError.invalidArgument("the learning rate is \(learningRate); it must be at most 1.")
        }
        if learningRate * weightDecay >= 1 {
            throw PCMoEError.invalidArgument(
                "the learning rate \(learningRate) times the weight decay \(weightDecay) is at least 1, which would flip the sign of every weight; lower one of them.")
        }
    }

    /// The learning-rate schedule these options define.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, totalSteps: steps, warmupFraction: warmupFraction,
                             minRatio: minLearningRateRatio)
    }

    /// The AdamW settings these options define.
    public var adamW: AdamWSettings {
        var s = AdamWSettings()
        s.weightDecay = weightDecay
        return s
    }
}
