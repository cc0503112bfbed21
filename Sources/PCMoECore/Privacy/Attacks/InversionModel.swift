/// The settings of an ``InversionModel``.
public struct InversionModelOptions: Equatable, Sendable {
    /// The width of the hidden ReLU layer, or 0 for softmax regression on the standardized row.
    public var hiddenWidth = 256
    /// Passes over the training rows.
    public var epochs = 5
    /// Rows per optimizer step.
    public var batchSize = 256
    /// The peak Adam learning rate. The rate decays by a cosine to a tenth of it over the run.
    public var learningRate = 1e-3
    /// Decoupled weight decay, applied to every weight and bias.
    public var weightDecay = 0.0
    /// The seed of the initial weights and of the order of the rows in each epoch.
    public var seed: UInt64 = 0

    /// The defaults: one hidden layer of 256, 5 epochs of batches of 256, rate 1e-3, no weight decay, seed 0.
    public init() {}
}

/// A classifier from a hidden row to the byte it came from: softmax
/// regression, or a network with one hidden ReLU layer, over 256 classes.
///
/// Training standardizes each feature with the mean and standard deviation of
/// the training rows, then minimizes the mean cross-entropy with Adam
/// (β = 0.9, 0.95) on shuffled minibatches. The same seed, options and
/// training data give the same model.
public final class InversionModel {
    /// The length of each row.
    public let dimension: Int
    /// The settings it was trained with.
    public let options: InversionModelOptions
    /// The mean cross-entropy in nats over the batches of the last epoch,
    /// or NaN when `options.epochs` is 0.
    public private(set) var finalLoss = 0.0

    let standardizer: FeatureStandardizer
    let hidden: DenseLayer?
    let output: DenseLayer

    /// Trains a model on `rows`, a row-major [n, dimension] array, and the true byte of each row.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when `dimension` is below 1,
    ///   `rows` is empty or not whole rows, `bytes` has another count than the
    ///   rows, or an option is out of range.
    public init(rows: [Float], bytes: [UInt8], dimension: Int, options: InversionModelOptions = InversionModelOptions()) throws {
        try Self.validate(valueCount: rows.count, byteCount: bytes.count, dimension: dimension, options: options)
        let count = rows.count / dimension
        self.dimension = dimension
        self.options = options
        standardizer = rows.withUnsafeBufferPointer {
            FeatureStandardizer(rows: $0.baseAddress!, count: count, dimension: dimension)
        }
        let width = options.hiddenWidth
        hidden = width > 0
            ? DenseLayer(name: "inversion.hidden", inputs: dimension, outputs: width,
                         std: (2 / Double(dimension)).squareRoot(), seed: options.seed)
            : nil
        let inputs = width > 0 ? width : dimension
        output = DenseLayer(name: "inversion.output", inputs: inputs, outputs: 256,
                            std: (1 / Double(inputs)).squareRoot(), seed: options.seed)
        finalLoss = train(standardizedRows: standardize(rows), bytes: bytes)
    }

    /// Trains a model on the rows of `rows`, whose last dimension is the row length.
    /// - Throws: as ``init(rows:bytes:dimension:options:)``.
    public convenience init(rows: Tensor, bytes: [UInt8], options: InversionModelOptions = InversionModelOptions()) throws {
        try self.init(rows: rows.values, bytes: bytes, dimension: rows.columns, options: options)
    }

    /// Returns the most probable byte of each row of `rows`, a row-major
    /// [n, dimension] array. Equal logits go to the lower byte value.
    /// - Precondition: `rows.count` is a multiple of `dimension`.
    public func predict(_ rows: [Float]) -> [UInt8] {
        precondition(rows.count % dimension == 0, "inversion predict: \(rows.count) values for rows of \(dimension)")
        let standardized = standardize(rows)
        let count = rows.count / dimension
        var predictions: [UInt8] = []
        predictions.reserveCapacity(count)
        let block = 4096
        for start in stride(from: 0, to: count, by: block) {
            let workspace = InversionWorkspace(rows: min(block, count - start), dimension: dimension,
                                               hiddenWidth: options.hiddenWidth)
            workspace.load(standardized, rows: start..<(start + workspace.rows))
            forward(workspace)
            predictions += workspace.argmaxLogits()
        }
        return predictions
    }

    /// Returns the most probable byte of each row of `rows`, whose last dimension must equal `dimension`.
    public func predict(_ rows: Tensor) -> [UInt8] {
        precondition(rows.columns == dimension, "inversion predict: rows \(rows.shape) for dimension \(dimension)")
        return predict(rows.values)
    }

    /// Computes the logits of the rows loaded into `workspace`.
    func forward(_ workspace: InversionWorkspace) {
        guard let hidden, let preActivation = workspace.preActivation, let activation = workspace.activation else {
            output.forward(workspace.input, into: workspace.logits)
            return
        }
        hidden.forward(workspace.input, into: preActivation)
        for i in 0..<activation.count { activation[i] = max(preActivation[i], 0) }
        output.forward(activation, into: workspace.logits)
    }

    private func standardize(_ rows: [Float]) -> [Float] {
        let count = rows.count / dimension
        var standardized = [Float](repeating: 0, count: rows.count)
        rows.withUnsafeBufferPointer { source in
            standardized.withUnsafeMutableBufferPointer { target in
                standardizer.apply(source.baseAddress!, count: count, into: target.baseAddress!)
            }
        }
        return standardized
    }

    private static func validate(valueCount: Int, byteCount: Int, dimension: Int, options: InversionModelOptions) throws {
        func reject(_ message: String) -> PCMoEError { .invalidArgument("inversion model: " + message) }
        guard dimension >= 1 else { throw reject("row dimension \(dimension) is invalid; it must be at least 1.") }
        guard valueCount > 0, valueCount % dimension == 0 else {
            throw reject("\(valueCount) values do not form rows of \(dimension); pass at least one whole row.")
        }
        guard byteCount == valueCount / dimension else {
            throw reject("\(byteCount) bytes for \(valueCount / dimension) rows; pass one byte per row.")
        }
        guard options.hiddenWidth >= 0 else { throw reject("hidden width \(options.hiddenWidth) is invalid; it must be at least 0.") }
        guard options.epochs >= 0 else { throw reject("epoch count \(options.epochs) is invalid; it must be at least 0.") }
        guard options.batchSize >= 1 else { throw reject("batch size \(options.batchSize) is invalid; it must be at least 1.") }
        guard options.learningRate.isFinite, options.learningRate > 0 else {
            throw reject("learning rate \(options.learningRate) is invalid; it must be positive.")
        }
        guard options.weightDecay.isFinite, options.weightDecay >= 0 else {
            throw reject("weight decay \(options.weightDecay) is invalid; it must be at least 0.")
        }
    }
}
