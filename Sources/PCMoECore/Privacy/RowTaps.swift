import Foundation

/// The rows of one expert forward request as its owner decoded them: what
/// an honest-but-curious owner can keep of another party's turn.
public struct ReceivedRows: Sendable {
    /// The requester.
    public let sender: Int
    /// The request's turn (0 for an inference forward).
    public let turn: UInt64
    /// The MoE layer.
    public let layer: Int
    /// The expert id of each row.
    public let experts: [Int]
    /// The rows, row-major [experts.count, d_model], as decoded from the wire.
    public let rows: [Float]
    /// True for an inference forward.
    public let inference: Bool
}

/// The origin of each row of one expert forward request, recorded by the
/// requester: the ground truth that privacy attacks are scored against.
public struct SentRowOrigins: Sendable {
    /// The owner the request went to.
    public let owner: Int
    /// The request's turn (0 for an inference forward).
    public let turn: UInt64
    /// The MoE layer.
    public let layer: Int
    /// The expert id of each row, as in the request.
    public let experts: [Int]
    /// The token index of each row within the forward's B·T tokens: row r
    /// is the hidden state of token positions[r], in the order sent.
    public let positions: [Int]
    /// True for an inference forward.
    public let inference: Bool
}

/// The sinks of a party's row taps, guarded by one lock.
final class RowTapSinks: @unchecked Sendable {
    private let lock = NSLock()
    private var received: (@Sendable (ReceivedRows) -> Void)?
    private var sent: (@Sendable (SentRowOrigins) -> Void)?

    func setReceived(_ sink: (@Sendable (ReceivedRows) -> Void)?) { lock.withLock { received = sink } }

    func setSent(_ sink: (@Sendable (SentRowOrigins) -> Void)?) { lock.withLock { sent = sink } }

    var receivedSink: (@Sendable (ReceivedRows) -> Void)? { lock.withLock { received } }

    var sentSink: (@Sendable (SentRowOrigins) -> Void)? { lock.withLock { sent } }
}

extension Party {
    /// Passes every expert forward request this party serves for another
    /// party to `sink`, with its rows as decoded, once its experts have run
    /// on them. A request the experts refuse is not passed.
    /// This is the view of an owner that keeps everything it receives; the
    /// privacy evaluation uses it as the attacker's record. Nil stops it.
    /// `sink` runs on the thread that delivers the party's messages.
    public func observeReceivedRows(_ sink: (@Sendable (ReceivedRows) -> Void)?) {
        rowTaps.setReceived(sink)
    }

    /// Passes, for every expert forward request this party sends to another
    /// party, the token index of each row to `sink`, on the thread that runs
    /// the turn or evaluation. Nil stops it.
    public func recordSentRowOrigins(_ sink: (@Sendable (SentRowOrigins) -> Void)?) {
        rowTaps.setSent(sink)
    }
}
