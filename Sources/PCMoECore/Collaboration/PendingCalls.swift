import Foundation

/// The requests a party has sent and waits on, by request id.
///
/// A reply is accepted only from the peer the request went to. Thread-safe:
/// replies arrive on transport threads while the turn thread waits.
final class PendingCalls: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [UInt64: (peer: Int, reply: MessageBody?)] = [:]
    private var nextID: UInt64 = 0
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
    /// `cancellable`, ``cancel()`` is called; then removes the request.
    func wait(id: UInt64, until deadline: Date, cancellable: Bool = true) -> Outcome {
        condition.lock()
        defer {
            waiting[id] = nil
            condition.unlock()
        }
        while waiting[id]?.reply == nil && !(cancellable && cancelled) {
            if !condition.wait(until: deadline) { break }
        }
        if let reply = waiting[id]?.reply { return .reply(reply) }
        return cancellable && cancelled ? .cancelled : .timedOut
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
