extension InversionModel {
    /// Runs the epochs of minibatch Adam on standardized rows and returns the
    /// mean cross-entropy of the last epoch, or NaN when there are no epochs.
    func train(standardizedRows rows: [Float], bytes: [UInt8]) -> Double {
        let count = bytes.count
        let batchSize = min(options.batchSize, count)
        let batchesPerEpoch = (count + batchSize - 1) / batchSize
        var settings = AdamWSettings()
        settings.weightDecay = options.weightDecay
        let layers = [hidden, output].compactMap { $0 }
        let optimizer = AdamW(parameters: layers.flatMap(\.parameters), gradients: layers.flatMap(\.gradients),
                              settings: settings, ledger: nil)
        let schedule = LearningRateSchedule(peak: options.learningRate, totalSteps: options.epochs * batchesPerEpoch,
                                            warmupFraction: 0, minRatio: 0.1)

        let full = InversionWorkspace(rows: batchSize, dimension: dimension, hiddenWidth: options.hiddenWidth)
        let remainder = count % batchSize
        let last = remainder == 0 ? full : InversionWorkspace(rows: remainder, dimension: dimension,
                                                              hiddenWidth: options.hiddenWidth)
        var generator = SplitMix64(seed: options.seed, label: "inversion.order")
        var order = Array(0..<count)
        var epochLoss = Double.nan
        for _ in 0..<options.epochs {
            shuffle(&order, using: &generator)
            var lossSum = 0.0
            for start in stride(from: 0, to: count, by: batchSize) {
                let indices = order[start..<min(start + batchSize, count)]
                let workspace = indices.count == batchSize ? full : last
                workspace.gather(rows, rows: indices)
                lossSum += step(workspace, targets: indices.map { bytes[$0] }) * Double(indices.count)
                optimizer.step(rate: schedule.rate(step: optimizer.stepCount + 1))
            }
            epochLoss = lossSum / Double(count)
        }
        return epochLoss
    }

    /// Runs the forward and backward pass of one batch, leaving the gradients
    /// in the layers, and returns the batch's mean cross-entropy.
    private func step(_ workspace: InversionWorkspace, targets: [UInt8]) -> Double {
        forward(workspace)
        let loss = crossEntropy(logits: workspace.logits, targets: targets, dlogits: workspace.logitGradient)
        guard let hidden, let preActivation = workspace.preActivation, let activation = workspace.activation,
              let activationGradient = workspace.activationGradient else {
            output.backward(workspace.input, dy: workspace.logitGradient, dx: nil)
            return loss
        }
        output.backward(activation, dy: workspace.logitGradient, dx: activationGradient)
        for i in 0..<activationGradient.count where preActivation[i] <= 0 { activationGradient[i] = 0 }
        hidden.backward(workspace.input, dy: activationGradient, dx: nil)
        return loss
    }
}

/// Fisher–Yates shuffle driven by `generator`, so that the order depends only on its seed.
private func shuffle(_ values: inout [Int], using generator: inout SplitMix64) {
    guard values.count > 1 else { return }
    for i in stride(from: values.count - 1, to: 0, by: -1) {
        let j = Int(generator.next() % UInt64(i + 1))
        values.swapAt(i, j)
    }
}
