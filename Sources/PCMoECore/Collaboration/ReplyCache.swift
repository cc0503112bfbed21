/// The replies a party sent, by sender and request id, so that a repeated
/// request gets the same bytes without being computed again.
///
/// A repeat must carry the same request; a different request under a used
/// id is refused. Once a turn is stepped, the replies of earlier turns are
/// dropped, and at most `capacity` entries are kept. Not thread-safe: the
/// party calls it under its lock.
struct ReplyCache {
    private struct Key: Hashable {
        let sender: Int
        let requestID: UInt64
    }

    private struct Entry {
        let fingerprint: UInt64
        let turn: UInt64
        let reply: [UInt8]
    }

    private var entries: [Key: Entry] = [:]
    private var storedBytes = 0
    let capacity: Int
    /// The most reply bytes kept; older turns go first when a new reply would exceed it.
    let maxBytes: Int

    init(capacity: Int = 4096, maxBytes: Int = 1 << 30) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    enum Lookup {
        case miss
        case hit([UInt8])
        case conflict
    }

    /// Looks up the reply to `request` (its bytes) from `sender` under `requestID`.
    func lookup(sender: Int, requestID: UInt64, request: [UInt8]) -> Lookup {
        guard let entry = entries[Key(sender: sender, requestID: requestID)] else { return .miss }
        return entry.fingerprint == fnv1a64(request) ? .hit(entry.reply) : .conflict
    }

    /// Remembers `reply` to `request`, which belongs to `turn` (0 for none).
    mutating func store(sender: Int, requestID: UInt64, request: [UInt8], turn: UInt64, reply: [UInt8]) {
        // Turn replies go before control replies (turn 0), oldest turn first.
        while !entries.isEmpty && (entries.count >= capacity || storedBytes + reply.count > maxBytes),
              let oldest = entries.min(by: { ($0.value.turn == 0 ? 1 : 0, $0.value.turn) < ($1.value.turn == 0 ? 1 : 0, $1.value.turn) }) {
            storedBytes -= oldest.value.reply.count
            entries[oldest.key] = nil
        }
        let key = Key(sender: sender, requestID: requestID)
        storedBytes -= entries[key]?.reply.count ?? 0
        entries[key] = Entry(fingerprint: fnv1a64(request), turn: turn, reply: reply)
        storedBytes += reply.count
    }

    /// Drops the replies of turns before `turn`; control replies (turn 0) stay.
    mutating func forgetBefore(turn: UInt64) {
        entries = entries.filter { $0.value.turn == 0 || $0.value.turn >= turn }
        storedBytes = entries.values.reduce(0) { $0 + $1.reply.count }
    }

    /// The number of stored replies.
    var count: Int { entries.count }
}
