import Foundation
import Testing

@testable import PCMoECore

/// Collects values from taps that run on other threads.
private final class Collected<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []

    func add(_ item: T) { lock.withLock { items.append(item) } }

    var all: [T] { lock.withLock { items } }
}

/// Three parties, party 0 the victim and party 2 the observer, after two
/// rounds, with the wire log of every forward from 0 to 2.
private func observedSession() throws -> (received: [ReceivedRows], origins: [SentRowOrigins], wire: [ExpertForwardRequest]) {
    let config = tinyConfig(experts: 6)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
    let received = Collected<ReceivedRows>(), origins = Collected<SentRowOrigins>(), wire = Collected<ExpertForwardRequest>()
    session.transport.intercept = { destination, bytes in
        if destination == 2, let envelope = try? Envelope.decode(bytes, maxBytes: 1 << 24), envelope.sender == 0,
           case .forward(let request) = envelope.body {
            wire.add(request)
        }
        return bytes
    }
    session.parties[2].observeReceivedRows { if $0.sender == 0 { received.add($0) } }
    session.parties[0].recordSentRowOrigins { if $0.owner == 2 { origins.add($0) } }
    for turn in 1...UInt64(6) {
        let party = session.parties[Int(turn - 1) % 3]
        _ = try party.trainTurn(tokens: randomTokens(config, batch: 2, seed: 80 + turn), turn: turn)
    }
    _ = try session.parties[0].evaluate(randomTokens(config, batch: 2, seed: 3)[...])
    return (received.all, origins.all, wire.all)
}

@Test func receivedRowsEqualTheWire() throws {
    let (received, _, wire) = try observedSession()
    #expect(!received.isEmpty)
    #expect(received.count == wire.count)
    for (seen, sent) in zip(received, wire) {
        let decoded = try sent.rows.decode(rows: sent.experts.count, columns: 8, what: "rows")
        #expect(seen.rows == Array(decoded.values))
        #expect(seen.experts == sent.experts.map(Int.init))
        #expect((seen.turn, UInt32(seen.layer), seen.inference) == (sent.turn, sent.layer, sent.inference))
    }
    #expect(received.contains { $0.inference })
    #expect(received.contains { !$0.inference })
}

@Test func sentOriginsMatchReceivedRows() throws {
    let (received, origins, _) = try observedSession()
    #expect(origins.count == received.count)
    for (origin, seen) in zip(origins, received) {
        #expect((origin.turn, origin.layer, origin.experts) == (seen.turn, seen.layer, seen.experts))
        #expect(origin.positions.count == seen.experts.count)
        #expect(origin.positions.allSatisfy { (0..<10).contains($0) })
        // Rows of one token sent to two experts carry the same values, and
        // rows of different tokens differ.
        let row = { (r: Int) in Array(seen.rows[(r * 8)..<(r * 8 + 8)]) }
        for a in origin.positions.indices {
            for b in origin.positions.indices where b > a {
                #expect((origin.positions[a] == origin.positions[b]) == (row(a) == row(b)))
            }
        }
    }
}
