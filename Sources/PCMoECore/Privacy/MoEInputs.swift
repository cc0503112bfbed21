extension MoEModel {
    /// Runs the model over `batch` sequences of T + 1 bytes without training
    /// and returns the input rows of every MoE layer, row-major [batch·T, d]
    /// each: row b·T + t is the post-norm hidden state of byte t of sequence b.
    /// - Precondition: `tokens.count == batch · (T + 1)`.
    public func moeInputs(tokens: [UInt8], batch: Int) throws -> [[Float]] {
        var layers = [[Float]](repeating: [], count: config.layers)
        moeInputSink = { layer, rows in layers[layer] = rows.values }
        defer { moeInputSink = nil }
        _ = try forward(tokens: tokens, batch: batch, training: false)
        return layers
    }
}

extension Party {
    /// Runs this party's model over `tokens` (B sequences of T + 1 bytes, as
    /// a turn takes) without training. The owners get inference forwards.
    /// Returns the input rows of every MoE layer, [B·T, d] each, in the
    /// order of ``MoEModel/moeInputs(tokens:batch:)``.
    ///
    /// These are the rows this party's backbone makes of the text: the
    /// privacy evaluation trains its inversion models on them.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a wrong byte count;
    ///   ``PCMoEError/peer(_:)`` when an owner rejects the request or does not reply.
    public func moeInputs(tokens: [UInt8]) throws -> [[Float]] {
        try lockTurn()
        defer { unlockTurn() }
        calls.resetCancel()
        guard tokens.count == options.batch * (config.sequence + 1) else {
            throw PCMoEError.invalidArgument("the text takes \(options.batch) × \(config.sequence + 1) bytes; got \(tokens.count).")
        }
        remote.turn = 0
        return try model.moeInputs(tokens: tokens, batch: options.batch)
    }
}
