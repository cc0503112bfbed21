import Foundation

/// The requests a party has sent and waits on, by request id.
///
/// A reply is accepted only from the peer the request went to. Thread-safe:
/// replies arrive on transport threads while the turn thread waits.
final class PendingCalls: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [UInt64: (peer: Int, reply: MessageBody?)] = [:]
    /// Starts at a random value, so a party restarted in the same session
    /// does not reuse the request ids of its earlier run. The value always
    /// has bit 31 set and no higher bit, so every id takes the same five
    /// bytes on the wire and message sizes do not vary from run to run.
    private var nextID = (1 << 31) | UInt64.random(in: 0..<(1 << 30))
    private lazy var firstID = nextID + 1
    private var cancelled = false

    /// The outcome of a wait.
    enum Outcome {
        case reply(MessageBody)
        case timedOut
        case cancelled
    }

    /// Registers a call to `peer` and returns its new request id.
    func open(peer: Int) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        _ = firstID
        nextID += 1
        waiting[nextID] = (peer, nil)
        return nextID
    }

    /// Records `reply` for request `id` from `peer`. Returns false, changing
    /// nothing, when no such request waits or it went to another peer.
    func deliver(id: UInt64, from peer: Int, reply: MessageBody) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let entry = waiting[id], entry.peer == peer, entry.reply == nil else { return false }
        waiting[id] = (peer, reply)
        condition.broadcast()
        return true
    }

    /// Waits until request `id` has its reply, `deadline` passes or, when
    /// `cancellable`, ``cancel()`` is called. The request stays registered,
    /// so a reply to a retry is still accepted, until ``close(id:)``.
    func wait(id: UInt64, until deadline: Date, cancellable: Bool = true) -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        while waiting[id]?.reply == nil && !(cancellable && cancelled) {
            if !condition.wait(until: deadline) { break }
        }
        if let reply = waiting[id]?.reply { return .reply(reply) }
        return cancellable && cancelled ? .cancelled : .timedOut
    }

    /// True when this party sent a request with id `id`, waiting or not.
    func wasIssued(_ id: UInt64) -> Bool {
        condition.withLock { id >= firstID && id <= nextID }
    }

    /// Forgets request `id`; a reply to it is dropped from now on.
    func close(id: UInt64) {
        condition.withLock { waiting[id] = nil }
    }

    /// Makes every wait, now and until ``resetCancel()``, return `.cancelled`.
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
    }

    /// Lets waits block again after ``cancel()``.
    func resetCancel() {
        condition.withLock { cancelled = false }
    }

    /// True between ``cancel()`` and ``resetCancel()``.
    var isCancelled: Bool { condition.withLock { cancelled } }
}
