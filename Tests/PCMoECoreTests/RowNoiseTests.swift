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
    #expect(throws: PCMoEError.self) { try RowNoise(clipNorm: 1, sigma: 1001).validate() }
    #expect(throws: Never.self) { try RowNoise(clipNorm: 1, sigma: 1000).validate() }
    var settings = PartySettings(id: 0, partyCount: 2, session: 1)
    settings.rowNoise = RowNoise(clipNorm: 1, sigma: .nan)
    #expect(throws: PCMoEError.self) { try settings.validate() }
}

@Test func rowNoiseFromValuesTurnsOffAtZero() throws {
    let off = try RowNoise.fromValues(clipNorm: 0, sigma: 0, clipName: "clip", sigmaName: "sigma")
    #expect(off == nil)
    let clipOnly = try RowNoise.fromValues(clipNorm: 3, sigma: 0, clipName: "clip", sigmaName: "sigma")
    #expect(clipOnly?.clipNorm == 3)
    #expect(clipOnly?.sigma == 0)
    #expect(clipOnly?.seed == nil)
    let noisy = try RowNoise.fromValues(clipNorm: 3, sigma: 0.25, clipName: "clip", sigmaName: "sigma")
    #expect(noisy?.clipNorm == 3)
    #expect(noisy?.sigma == 0.25)
    #expect(noisy?.seed == nil)
}

@Test(arguments: [
    (0.0, 0.5, "sigma is 0.5 but clip is 0"),
    (-1.0, 0.0, "clip is -1.0"),
    (Double.nan, 0.0, "clip is nan"),
    (Double.infinity, 0.0, "clip is inf"),
    (1.0, -0.5, "sigma is -0.5"),
    (1.0, Double.infinity, "sigma is inf"),
])
func rowNoiseFromValuesRejects(clip: Double, sigma: Double, expected: String) {
    let message = errorMessage { _ = try RowNoise.fromValues(clipNorm: clip, sigma: sigma, clipName: "clip", sigmaName: "sigma") }
    #expect(message?.contains(expected) == true, "\(message ?? "no error")")
}
