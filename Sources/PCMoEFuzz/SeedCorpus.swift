import Foundation
import PCMoECore

/// The seed corpus: every message addressed to the fuzzed party during two
/// rounds and an evaluation of a real three-party session, one file each.
enum SeedCorpus {
    static func write(to folder: String) throws -> Int {
        let session = try InProcessSession(partyCount: FuzzSession.partyCount, config: FuzzSession.model,
                                           options: FuzzSession.training, session: FuzzSession.session)
        let captured = Captured()
        session.transport.intercept = { destination, bytes in
            if destination == FuzzSession.fuzzedParty { captured.append(bytes) }
            return bytes
        }
        let window = FuzzSession.training.batch * (FuzzSession.model.sequence + 1)
        var rng = SplitMix64(seed: 5, label: "fuzz.seeds")
        for turn in 1...UInt64(2 * FuzzSession.partyCount) {
            let tokens = (0..<window).map { _ in UInt8(97 + rng.next() % 26) }
            let party = session.parties[Int(turn - 1) % FuzzSession.partyCount]
            _ = try party.trainTurn(tokens: tokens, turn: turn)
        }
        let text = (0..<200).map { _ in UInt8(97 + rng.next() % 26) }
        _ = try session.parties[0].evaluate(text[...], maxWindows: 2)
        session.transport.intercept = nil

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let messages = captured.all
        for (i, bytes) in messages.enumerated() {
            let name = String(format: "%@/message-%03d.bin", folder, i)
            try Data(bytes).write(to: URL(fileURLWithPath: name))
        }
        return messages.count
    }
}

/// Messages collected from transport threads.
private final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [[UInt8]] = []

    func append(_ bytes: [UInt8]) { lock.withLock { messages.append(bytes) } }

    var all: [[UInt8]] { lock.withLock { messages } }
}
