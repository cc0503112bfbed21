import Foundation

/// Carries serialized envelopes between parties.
///
/// A transport is asynchronous: ``send(_:to:)`` hands the bytes over and
/// returns without waiting for the peer. Bytes that arrive for a party are
/// given to ``Party/handle(_:)`` on any thread, and the reply it returns, if
/// any, is sent back the same way. Implementations must be thread-safe.
public protocol Transport: AnyObject, Sendable {
    /// Queues `bytes` for party `destination`. Must not block on the peer.
    func send(_ bytes: [UInt8], to destination: Int)
}

/// A reply produced by ``Party/handle(_:)``: the bytes and the party they go to.
public struct Outgoing: Sendable, Equatable {
    /// The receiving party, or nil when the incoming bytes named no valid
    /// sender; a transport that knows the connection answers on it.
    public let destination: Int?
    /// The serialized reply envelope.
    public let bytes: [UInt8]
}

/// The outcome of ``Party/receive(_:)`` for incoming bytes.
public struct Delivery: Sendable, Equatable {
    /// The reply to send, if any.
    public let reply: Outgoing?
    /// The reason the message was rejected or dropped, or nil when it was accepted.
    public let refusal: String?
}

/// Delivers messages between parties of one process, each party with its own
/// serial inbox queue, so a party handles one message at a time while its
/// turn runs on another thread.
///
/// `intercept`, when set, sees every message before delivery and returns the
/// bytes to deliver, or nil to drop them; tests use it to capture, alter or
/// repeat messages.
public final class InProcessTransport: Transport, @unchecked Sendable {
    /// Parties by id, referenced weakly, because a party owns its transport and not the reverse.
    private var parties: [WeakParty]
    private let inboxes: [DispatchQueue]
    private let lock = NSLock()
    /// Sees each message as (destination, bytes) before delivery.
    public var intercept: (@Sendable (Int, [UInt8]) -> [UInt8]?)? {
        get { lock.withLock { interceptor } }
        set { lock.withLock { interceptor = newValue } }
    }
    private var interceptor: (@Sendable (Int, [UInt8]) -> [UInt8]?)?
    /// Messages that could not be addressed (malformed bytes, unknown destination).
    public private(set) var undeliverable = 0

    /// A transport for parties 0 ..< `partyCount`; each joins with ``attach(_:)``.
    public init(partyCount: Int) {
        parties = Array(repeating: WeakParty(), count: partyCount)
        inboxes = (0..<partyCount).map { DispatchQueue(label: "pcmoe.inbox.\($0)") }
    }

    /// The number of party ids this transport serves.
    public var partyCount: Int { parties.count }

    /// Delivers to `party` the messages addressed to its id from now on;
    /// a party whose id is out of range is ignored. The transport does not
    /// keep the party alive.
    public func attach(_ party: Party) {
        lock.withLock {
            if parties.indices.contains(party.id) { parties[party.id] = WeakParty(party: party) }
        }
    }

    /// Makes this transport carry `party`'s messages and deliver to it the
    /// messages addressed to its id.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when the party's count
    ///   differs from this transport's.
    public func connect(_ party: Party) throws {
        guard party.settings.partyCount == partyCount else {
            throw PCMoEError.invalidArgument("party \(party.id) belongs to a session of \(party.settings.partyCount) parties; "
                                                 + "this transport serves \(partyCount).")
        }
        party.transport = self
        attach(party)
    }

    public func send(_ bytes: [UInt8], to destination: Int) {
        let (party, hook) = lock.withLock { () -> (Party?, (@Sendable (Int, [UInt8]) -> [UInt8]?)?) in
            (parties.indices.contains(destination) ? parties[destination].party : nil, interceptor)
        }
        guard let party else {
            lock.withLock { undeliverable += 1 }
            Log.write(.warning, "the in-process transport has no party \(destination) attached; a message of "
                          + "\(bytes.count) bytes is dropped.")
            return
        }
        guard let delivered = hook == nil ? bytes : hook!(destination, bytes) else { return }
        inboxes[destination].async { [self] in
            guard let reply = party.handle(delivered) else { return }
            guard let to = reply.destination else {
                lock.withLock { undeliverable += 1 }
                return
            }
            send(reply.bytes, to: to)
        }
    }
}

private struct WeakParty {
    weak var party: Party?
}
