import Foundation
import Testing

@testable import PCMoECore

/// Collects the rows party 2 accepts from party 0 in the first turn.
private final class FirstTurnRows: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [Float] = []

    func add(_ seen: ReceivedRows) {
        guard seen.sender == 0, seen.turn == 1, seen.layer == 0 else { return }
        lock.withLock { rows += seen.rows }
    }

    var all: [Float] { lock.withLock { rows } }
}

/// Party 0's first turn, with `noise` on the rows it sends, as party 2 receives them.
private func firstTurnRows(noise: RowNoise?) throws -> (rows: [Float], loss: Double) {
    let config = ModelConfig(dModel: 16, heads: 2, layers: 1, experts: 6, topK: 2, expertHidden: 8, sequence: 8)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions(batch: 8),
                                       rowNoise: noise.map { [0: $0] } ?? [:])
    let seen = FirstTurnRows()
    session.parties[2].observeReceivedRows { seen.add($0) }
    let metrics = try session.parties[0].trainTurn(tokens: randomTokens(config, batch: 8, seed: 4), turn: 1)
    return (seen.all, metrics.loss)
}

@Test func noiseOfZeroWithAWideClipChangesNothing() throws {
    let exact = try firstTurnRows(noise: nil)
    let same = try firstTurnRows(noise: RowNoise(clipNorm: 1e6, sigma: 0, seed: 1))
    #expect(!exact.rows.isEmpty)
    #expect(same.rows == exact.rows)
    #expect(same.loss == exact.loss)
}

@Test func clippingBoundsEveryRowNorm() throws {
    let exact = try firstTurnRows(noise: nil)
    let clipped = try firstTurnRows(noise: RowNoise(clipNorm: 1, sigma: 0, seed: 1))
    #expect(clipped.rows.count == exact.rows.count)
    for r in 0..<(exact.rows.count / 16) {
        let a = Array(exact.rows[(r * 16)..<(r * 16 + 16)]), b = Array(clipped.rows[(r * 16)..<(r * 16 + 16)])
        let normA = sqrt(a.reduce(0) { $0 + Double($1 * $1) }), normB = sqrt(b.reduce(0) { $0 + Double($1 * $1) })
        #expect(normA > 1.5)
        #expect(abs(normB - 1) < 1e-4)
        let cosine = zip(a, b).reduce(0) { $0 + Double($1.0 * $1.1) } / (normA * normB)
        #expect(cosine > 0.9999)
    }
}

@Test func noiseHasTheRequestedSpread() throws {
    let exact = try firstTurnRows(noise: nil)
    let noisy = try firstTurnRows(noise: RowNoise(clipNorm: 1e6, sigma: 0.5, seed: 9))
    let again = try firstTurnRows(noise: RowNoise(clipNorm: 1e6, sigma: 0.5, seed: 9))
    #expect(noisy.rows == again.rows)
    let differences = zip(noisy.rows, exact.rows).map { Double($0 - $1) }
    let spread = sqrt(differences.reduce(0) { $0 + $1 * $1 } / Double(differences.count))
    #expect(differences.count > 500)
    #expect(abs(spread - 0.5) < 0.05)
    #expect(noisy.loss.isFinite)
}

@Test func rowNoiseRejectsBadValues() {
    #expect(throws: PCMoEError.self) { try RowNoise(clipNorm: 0, sigma: 1).validate() }
    #expect(throws: PCMoEError.self) { try RowNoise(clipNorm: 1, sigma: -0.1).validate() }
    #expect(throws: PCMoEError.self) { try RowNoise(clipNorm: .infinity, sigma: 1).validate() }
    var settings = PartySettings(id: 0, partyCount: 2, session: 1)
    settings.rowNoise = RowNoise(clipNorm: 1, sigma: .nan)
    #expect(throws: PCMoEError.self) { try settings.validate() }
}
