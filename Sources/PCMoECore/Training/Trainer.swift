/// Measurements of one training step.
public struct StepMetrics: Equatable, Sendable {
    /// The step number, from 1.
    public let step: Int
    /// The training loss: cross-entropy + 0.01 · Σ balance losses.
    public let loss: Double
    /// Mean next-byte cross-entropy in nats.
    public let crossEntropy: Double
    /// Σ over layers of the load-balancing loss.
    public let balanceLoss: Double
    /// The learning rate used.
    public let learningRate: Double
    /// The global gradient norm before clipping.
    public let gradientNorm: Double
    /// Predicted bytes in the batch, B · T.
    public let tokens: Int
}

/// Trains one model on one corpus: batches, forward, backward, clipping and AdamW.
///
/// Not thread-safe: one step at a time.
public final class Trainer {
    /// The model being trained.
    public let model: MoEModel
    /// Its optimizer; `optimizer.stepCount` is the number of steps taken.
    public let optimizer: AdamW
    /// Run length, batch, rates and seed.
    public let options: TrainingOptions
    /// The training batches.
    public let sampler: BatchSampler

    /// A freshly initialised model and optimizer for `corpus`.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for bad sizes or options,
    ///   ``PCMoEError/invalidData(_:)`` when the corpus is shorter than one sequence.
    public init(config: ModelConfig, options: TrainingOptions, corpus: Corpus,
                ledger: MemoryLedger = MemoryLedger()) throws {
        try config.validate()
        try options.validate()
        try config.validateMemory(batch: options.batch)
        try corpus.requireLength(config.sequence + 1)
        model = try MoEModel(config: config, seed: options.seed, ledger: ledger)
        optimizer = AdamW(parameters: model.weights, gradients: model.gradients, settings: options.adamW,
                          ledger: ledger)
        self.options = options
        sampler = BatchSampler(bytes: corpus.train, batch: options.batch, window: config.sequence + 1,
                               seed: options.seed)
    }

    /// Steps taken so far.
    public var step: Int { optimizer.stepCount }

    /// Runs one step on the next batch.
    /// - Throws: ``PCMoEError/nonFinite(_:)`` naming the step and the tensor
    ///   when the loss or a gradient is NaN or infinite. The weights are then
    ///   left as they were before the step.
    public func trainStep() throws -> StepMetrics {
        try trainStep(on: sampler.batch(step: step + 1))
    }

    /// Runs one step on `tokens`, B sequences of T + 1 bytes, instead of the
    /// sampler's next batch.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a wrong byte count,
    ///   and as ``trainStep()``.
    public func trainStep(on tokens: [UInt8]) throws -> StepMetrics {
        let next = step + 1
        guard tokens.count == options.batch * (model.config.sequence + 1) else {
            throw PCMoEError.invalidArgument(
                "a step takes \(options.batch) × \(model.config.sequence + 1) bytes; got \(tokens.count).")
        }
        model.gradients.zero()
        let pass = try model.forward(tokens: tokens, batch: options.batch, training: true)
        guard pass.loss.isFinite else {
            model.experts.discardPending()
            throw nonFiniteLoss(pass.loss, step: next)
        }
        try model.backward(pass)
        if let bad = model.gradients.named.first(where: { !$0.tensor.isFinite }) {
            throw PCMoEError.nonFinite(
                "training stopped at step \(next): the gradient of \(bad.name) contains NaN or infinite values; lower the learning rate or the clip norm.")
        }
        let norm = globalNorm(model.gradients)
        guard norm.isFinite else {
            throw PCMoEError.nonFinite(
                "training stopped at step \(next): the gradient norm overflows (\(norm)); lower the learning rate.")
        }
        clipGradients(model.gradients, maxNorm: options.clipNorm, norm: norm)
        let rate = options.schedule.rate(step: next)
        optimizer.step(rate: rate)
        return StepMetrics(step: next, loss: pass.loss, crossEntropy: pass.crossEntropy,
                           balanceLoss: pass.balanceLosses.reduce(0, +), learningRate: rate,
                           gradientNorm: norm, tokens: options.batch * model.config.sequence)
    }

    /// Builds the error for a NaN or infinite loss, naming the first weight
    /// tensor that is not finite, if any.
    private func nonFiniteLoss(_ loss: Double, step: Int) -> PCMoEError {
        let cause = model.weights.named.first { !$0.tensor.isFinite }
            .map { "the weights of \($0.name) contain NaN or infinite values" }
            ?? "every weight is finite"
        return PCMoEError.nonFinite(
            "training stopped at step \(step): the loss is \(loss) and \(cause); lower the learning rate or check the checkpoint.")
    }
}
