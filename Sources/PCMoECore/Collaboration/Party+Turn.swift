import Foundation

/// Measurements of one training turn, as the party that took it records them.
public struct TurnMetrics: Equatable, Sendable {
    /// The global turn number.
    public let turn: UInt64
    /// The global optimizer step the turn took, from 1: turns that
    /// completed before it, plus one.
    public let globalStep: UInt64
    /// The party that took the turn.
    public let party: Int
    /// Training loss: cross-entropy + 0.01 · Σ balance losses.
    public let loss: Double
    /// Mean next-byte cross-entropy in nats.
    public let crossEntropy: Double
    /// The learning rate of the turn's step.
    public let learningRate: Double
    /// The backbone's gradient norm before clipping.
    public let backboneGradientNorm: Double
}

extension Party {
    /// Greets every other party and checks that they run the same session:
    /// party count, model sizes, run settings, and the expert steps taken
    /// (equal when every party starts fresh or from checkpoints of one turn).
    ///
    /// `timeout` and `retries` replace the settings' call timeout and
    /// retries for the Hellos, so a caller can greet in short attempts
    /// while the other parties start.
    /// - Throws: ``PCMoEError/peer(_:)`` naming the first party that
    ///   differs and the first field that differs, or that does not answer.
    public func join(timeout: Double? = nil, retries: Int? = nil) throws {
        let hello = Hello(partyCount: UInt32(settings.partyCount), config: config, options: options)
        let calls = try (0..<settings.partyCount).filter { $0 != id }.map {
            try startCall(to: $0, .hello(hello), what: "Hello")
        }
        for (call, reply) in zip(calls, try finishCalls(calls, timeout: timeout, retries: retries)) {
            guard case .welcome(let welcome) = reply else {
                throw PCMoEError.peer("party \(call.peer) returned \(reply.nameWithArticle) in response to the Hello.")
            }
            guard welcome.stepsTaken == UInt64(expertSteps) else {
                throw PCMoEError.peer("party \(call.peer)'s experts have taken \(welcome.stepsTaken) steps and party \(id)'s \(expertSteps); "
                                          + "start every party fresh, or from checkpoints saved after the same turn.")
            }
        }
    }

    /// Takes one training turn on `tokens` (B sequences of T + 1 bytes).
    ///
    /// Runs the forward with remote expert calls, the backward with remote
    /// gradient calls, steps the backbone (clipped by its own norm), then
    /// asks every owner, itself included, to step its experts for the turn.
    /// When the forward or the backward fails, every owner is asked to drop
    /// the turn and nothing is stepped.
    /// The turn's global step, which fixes its learning rate, is one more
    /// than the steps this party's shard has taken, so a turn that failed
    /// and was aborted leaves the step free for the next one.
    /// - Parameters:
    ///   - turn: the global turn number, from 1, larger than any turn before it.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a turn number not
    ///   above the last stepped turn or a run whose steps are all taken,
    ///   checked before anything is sent; ``PCMoEError/peer(_:)`` when an
    ///   owner rejects the request or does not reply; ``PCMoEError/nonFinite(_:)`` for a
    ///   NaN or infinite loss or gradient.
    public func trainTurn(tokens: [UInt8], turn: UInt64) throws -> TurnMetrics {
        try lockTurn()
        defer { unlockTurn() }
        calls.resetCancel()
        guard tokens.count == options.batch * (config.sequence + 1) else {
            throw PCMoEError.invalidArgument("a turn takes \(options.batch) × \(config.sequence + 1) bytes; got \(tokens.count).")
        }
        try checkTurnNumber(turn)
        let (pass, norm) = try computeGradients(tokens: tokens, turn: turn)
        clipGradients(backboneOptimizer.gradients, maxNorm: options.clipNorm, norm: norm)
        let globalStep = UInt64(expertSteps + 1)
        let rate = options.schedule.rate(step: Int(globalStep))
        backboneOptimizer.step(rate: rate)
        try stepEveryOwner(turn: turn, globalStep: globalStep)
        let metrics = TurnMetrics(turn: turn, globalStep: globalStep, party: id, loss: pass.loss,
                                  crossEntropy: pass.crossEntropy, learningRate: rate, backboneGradientNorm: norm)
        Log.write(.info, "party \(id) finished turn \(turn) (global step \(globalStep)): loss \(pass.loss).")
        return metrics
    }

    /// Refuses a turn this party's shard has already seen stepped, and a turn
    /// beyond the run's length, whose learning rate the schedule does not define.
    private func checkTurnNumber(_ turn: UInt64) throws {
        let (steps, lastTurn) = shard.lock.withLock { (shard.optimizer.stepCount, shard.lastSteppedTurn) }
        guard turn > lastTurn else {
            throw PCMoEError.invalidArgument("turn \(turn) is not after turn \(lastTurn), the last turn of this session "
                                                 + "that completed; number each turn above every turn before it.")
        }
        guard steps < options.steps else {
            throw PCMoEError.invalidArgument("the run's \(options.steps) steps are all taken; create the parties with "
                                                 + "more steps to train longer.")
        }
    }

    /// Runs the forward and backward of a turn: backbone gradients here,
    /// expert gradients accumulated at their owners. Returns the pass and the
    /// backbone gradient norm. On failure, every owner drops the turn.
    func computeGradients(tokens: [UInt8], turn: UInt64) throws -> (ForwardPass, Double) {
        for g in backboneOptimizer.gradients { g.zero() }
        remote.turn = turn
        do {
            let pass = try model.forward(tokens: tokens, batch: options.batch, training: true)
            guard pass.loss.isFinite else {
                throw PCMoEError.nonFinite("turn \(turn) of party \(id) stopped: the loss is \(pass.loss).")
            }
            try model.backward(pass)
            let norm = globalNorm(backboneOptimizer.gradients)
            guard norm.isFinite else {
                throw PCMoEError.nonFinite("turn \(turn) of party \(id) stopped: the backbone gradient norm is \(norm).")
            }
            return (pass, norm)
        } catch {
            abortEverywhere(turn: turn)
            throw error
        }
    }

    /// Sends the step of `turn` to every other party and steps the own shard.
    /// `globalStep` defaults to one more than the steps of the own shard.
    func stepEveryOwner(turn: UInt64, globalStep given: UInt64? = nil) throws {
        let globalStep = given ?? UInt64(expertSteps + 1)
        let step = StepBody(turn: turn, globalStep: globalStep)
        let calls = try (0..<settings.partyCount).filter { $0 != id }.map {
            try startCall(to: $0, .step(step), what: "step of turn \(turn)")
        }
        var localError: Error?
        do {
            _ = try shard.step(requester: id, turn: turn, globalStep: globalStep)
        } catch {
            let reason = (error as? ErrorReply)?.message ?? "\(error)"
            localError = PCMoEError.peer("party \(id)'s own shard rejected the step of turn \(turn): \(reason)")
        }
        // Once the steps are sent, the turn commits: a cancel must not let
        // the next turn start before every owner has stepped, or that turn
        // would compute its global step from a stale count.
        for (call, reply) in zip(calls, try finishCalls(calls, cancellable: false)) {
            guard case .stepReply(let body) = reply, body.turn == turn, body.globalStep == globalStep else {
                throw PCMoEError.peer("party \(call.peer) replied to the step of turn \(turn) with \(reply.nameWithArticle) "
                                          + "that does not match it.")
            }
        }
        if let localError { throw localError }
    }

    /// Asks every owner to drop `turn` and drops it here, waiting at most a
    /// second and without retries, since the owner that failed the turn
    /// may not answer. Failures to reach an owner are not reported: the turn
    /// already failed, and an owner that missed the abort drops the turn
    /// when the next one starts.
    func abortEverywhere(turn: UInt64) {
        remote.discardPending()
        shard.abort(requester: id, turn: turn)
        let calls = (0..<settings.partyCount).filter { $0 != id }.compactMap {
            try? startCall(to: $0, .abort(turn: turn), what: "abort of turn \(turn)")
        }
        _ = try? finishCalls(calls, timeout: min(settings.callTimeout, 1), retries: 0)
    }

    /// Scores `bytes` with this party's model: its own backbone and every
    /// expert, asking the owners for inference forwards that keep nothing.
    ///
    /// Windows go `options.batch` at a time, the most rows an owner accepts.
    /// ``cancel()`` stops it, like `isCancelled`.
    /// - Throws: as ``MoEModel/evaluate(_:batch:maxWindows:isCancelled:progress:)``,
    ///   and ``PCMoEError/peer(_:)`` when an owner refuses or does not answer.
    public func evaluate(_ bytes: ArraySlice<UInt8>, maxWindows: Int? = nil,
                         isCancelled: () -> Bool = { false },
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> EvaluationResult {
        try lockTurn()
        defer { unlockTurn() }
        calls.resetCancel()
        remote.turn = 0
        return try model.evaluate(bytes, batch: options.batch, maxWindows: maxWindows,
                                  isCancelled: { isCancelled() || calls.isCancelled }, progress: progress)
    }

    /// Makes the turn or evaluation running now stop soon with
    /// ``PCMoEError/cancelled(_:)``: a turn stops waiting for its replies and
    /// is aborted everywhere, an evaluation stops before its next batch.
    /// A turn whose steps are already sent completes and is not cancelled.
    /// A cancel while neither runs has no effect on the next one.
    /// Thread-safe; meant to be called from another thread.
    public func cancel() {
        calls.cancel()
    }
}
