/// What one party ended with in one mode.
public struct PartyOutcome: Codable, Equatable, Sendable {
    /// The party id.
    public var party: Int
    /// The name of the party's corpus.
    public var corpus: String
    /// Mean next-byte cross-entropy on the party's validation text, in nats.
    public var validationLoss: Double
    /// The same in bits per byte.
    public var bitsPerByte: Double
    /// The largest number of tensor bytes held at one time, by kind
    /// (parameters, gradients, optimizer_state, activations, served_activations).
    public var peakBytes: [String: Int]
    /// The largest number of tensor bytes held at one time, all kinds together.
    public var peakTotalBytes: Int
    /// Envelope bytes sent during training (0 outside PC-MoE).
    public var bytesSent: Int
    /// Envelope bytes received during training (0 outside PC-MoE).
    public var bytesReceived: Int

    enum CodingKeys: String, CodingKey {
        case party, corpus, validationLoss = "validation_loss", bitsPerByte = "bits_per_byte"
        case peakBytes = "peak_bytes", peakTotalBytes = "peak_total_bytes"
        case bytesSent = "bytes_sent", bytesReceived = "bytes_received"
    }
}

/// The result of one mode of a comparison.
public struct ModeOutcome: Codable, Equatable, Sendable {
    /// The mode.
    public var mode: ComparisonMode
    /// Seconds from the start of the mode to the end of its evaluation.
    public var wallSeconds: Double
    /// Rounds R: optimizer steps per party's batches.
    public var rounds: Int
    /// The training loss on each party's batch of each round: `losses[party][round]`.
    public var losses: [[Double]]
    /// Each party's outcome, by id.
    public var parties: [PartyOutcome]
    /// For a memory figure shared by all parties (centralized), the peak of
    /// the one model; nil otherwise.
    public var sharedPeakTotalBytes: Int?

    enum CodingKeys: String, CodingKey {
        case mode, wallSeconds = "wall_seconds", rounds, losses, parties
        case sharedPeakTotalBytes = "shared_peak_total_bytes"
    }
}
