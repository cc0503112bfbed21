import Foundation
import Testing

@testable import PCMoECore

private let victimText = """
    The harbour was quiet before dawn. Fishing boats rocked against the pier while gulls \
    circled above the nets. An old sailor mended a rope and hummed a song about the northern \
    islands, where the winters were long and the summers bright. Children ran along the sand, \
    looking for shells and small crabs, and their mothers called them home for bread and tea.
    """

private let attackerText = """
    In the kitchen the kettle began to whistle. She poured the water over the leaves and waited \
    while the steam rose in slow curls toward the window. Outside, rain tapped on the garden \
    table and the cat watched the birds from under the bench, its tail twitching with patience \
    and a hunter's hope that one of them would land a little too close.
    """

/// Three parties with English-like text, party 1 attacking party 0, on a
/// model small enough for a test and wide enough to carry the bytes.
private func evaluation(rounds: Int = 8, settings: AttackSettings = AttackSettings()) throws -> PrivacyEvaluation {
    let config = ModelConfig(dModel: 32, heads: 2, layers: 2, experts: 6, topK: 2, expertHidden: 32, sequence: 16)
    var options = collaborationOptions(steps: rounds, batch: 4)
    options.learningRate = 3e-3
    let texts = [victimText, attackerText, String(victimText.reversed())]
    let corpora = texts.enumerated().map { i, text in
        Corpus(name: "text\(i)", bytes: Array(String(repeating: text + " ", count: 6).utf8))
    }
    let comparison = try Comparison(config: config, options: options, corpora: corpora, evalWindows: 4)
    var attack = settings
    // Few rows: one clustering window, and a fifth of them known.
    attack.clusters = 40
    attack.windowTurns = 0
    attack.knownShare = 0.2
    attack.inversionRows = 4000
    attack.inversion.epochs = 20
    return try PrivacyEvaluation(comparison: comparison, settings: attack)
}

private func result(_ report: AttackReport, _ kind: AttackKind, layer: Int? = nil) -> AttackResult {
    report.attacks.first { $0.attack == kind && $0.layer == layer }!
}

@Test func inversionRecoversBytesThroughASharedBackbone() throws {
    let report = try evaluation().run(DefenseSetting())
    #expect(report.observedPerLayer.allSatisfy { $0 > 100 })
    #expect(report.victimTokens == 8 * 4 * 16)
    for kind in [AttackKind.inversion, .whiteBox] {
        let first = result(report, kind, layer: 0)
        #expect(first.accuracy! > first.baseline! + 0.4, "\(kind): \(first)")
    }
    let known = result(report, .clusterKnown, layer: 0)
    #expect(known.accuracy! > known.baseline! + 0.2, "\(known)")
}

@Test func heavyRowNoiseLeavesInversionAtTheBaseline() throws {
    var defense = DefenseSetting()
    defense.rowNoise = RowNoise(clipNorm: 1, sigma: 20, seed: 3)
    let report = try evaluation().run(defense)
    for layer in 0..<2 {
        let whiteBox = result(report, .whiteBox, layer: layer)
        #expect(whiteBox.accuracy! < whiteBox.baseline! + 0.08, "\(whiteBox)")
    }
}

@Test func ownExpertFirstLayerHidesItsRows() throws {
    var defense = DefenseSetting()
    defense.ownExpertLayers = 1
    let report = try evaluation(rounds: 3).run(defense)
    #expect(report.observedPerLayer[0] == 0)
    #expect(report.observedPerLayer[1] > 0)
    #expect(result(report, .clusterFrequency, layer: 0).accuracy == nil)
    #expect(result(report, .inversion, layer: 0).count == 0)
}

@Test func recordsThatDoNotPairUpAreRefused() {
    let recorder = AttackRecorder()
    let config = tinyConfig()
    let message = errorMessage { _ = try recorder.observations(config: config, batches: [:]) }
    #expect(message == nil)
    let session = try? InProcessSession(partyCount: 2, config: config, options: collaborationOptions())
    guard let session else { Issue.record("no session"); return }
    recorder.attach(attacker: session.parties[1], victim: session.parties[0])
    let tokens = randomTokens(config, batch: 2, seed: 9)
    #expect(throws: Never.self) { _ = try session.parties[0].trainTurn(tokens: tokens, turn: 1) }
    // Without the victim's batch of turn 1, the rows cannot be given their bytes.
    let missing = errorMessage { _ = try recorder.observations(config: config, batches: [:]) }
    #expect(missing?.contains("not a turn of the victim") == true)
    let joined = try? recorder.observations(config: config, batches: [1: tokens])
    #expect((joined?.tokens.count ?? 0) > 0)
}

@Test func clusteringWindowsFollowTurns() throws {
    var settings = AttackSettings()
    settings.windowTurns = 2
    let attacks = PrivacyAttacks(settings: settings, dimension: 1, reference: [Double](repeating: 1, count: 256))
    let tokens = [1, 1, 4, 7, 7, 7, 10].map { TokenKey(turn: $0, position: 0) }
    #expect(attacks.windows(tokens) == [0..<3, 3..<7])
    settings.windowTurns = 0
    let single = PrivacyAttacks(settings: settings, dimension: 1, reference: [Double](repeating: 1, count: 256))
    #expect(single.windows(tokens) == [0..<7])
}

@Test func sharedFrequencyLabelsGiveSplitBytesOneLabel() {
    var reference = [Double](repeating: 0, count: 256)
    reference[Int(UInt8(ascii: " "))] = 0.6
    reference[Int(UInt8(ascii: "e"))] = 0.4
    // A space split into clusters 0 and 2, and an "e" as cluster 1.
    let labels = FrequencyLabeling.sharedLabels(sizes: [40, 40, 20], reference: reference)
    #expect(labels == [UInt8(ascii: " "), UInt8(ascii: "e"), UInt8(ascii: " ")])
    // The one-to-one rule gives the smaller space cluster a third byte.
    #expect(FrequencyLabeling.labels(sizes: [40, 40, 20], reference: reference)[2] != UInt8(ascii: " "))
}

@Test func attackSettingsRejectBadValues() {
    var settings = AttackSettings()
    settings.victim = 1
    #expect(errorMessage { try settings.validate(partyCount: 3) }?.contains("both attacker and victim") == true)
    settings = AttackSettings()
    settings.attacker = 3
    #expect(errorMessage { try settings.validate(partyCount: 3) }?.contains("from 0 to 2") == true)
    settings = AttackSettings()
    settings.knownShare = 1
    #expect(errorMessage { try settings.validate(partyCount: 3) }?.contains("known-plaintext share") == true)
}

/// Observations of one layer where each row is a fixed vector per byte plus
/// a little noise, and the routing is a fixed function of the byte (or
/// random, with `randomRouting`): the positive control of the evaluation's attacks.
private func syntheticObservations(_ bytes: [UInt8], randomRouting: Bool = false) -> VictimObservations {
    let d = 16
    var random = SplitMix64(seed: 21)
    let vectors = (0..<256).map { _ in (0..<d).map { _ in Float(random.nextNormal()) } }
    var layer = ObservedLayer()
    var routing: [[[Int]]] = []
    for (i, byte) in bytes.enumerated() {
        layer.rows += vectors[Int(byte)].map { $0 + Float(random.nextNormal(std: 0.05)) }
        layer.bytes.append(byte)
        layer.tokens.append(TokenKey(turn: UInt64(1 + i / 64), position: i % 64))
        let code = randomRouting ? Int(random.next() % 64) : Int(byte) % 64
        routing.append([[code % 8], [code / 8]])
    }
    return VictimObservations(layers: [layer], tokens: layer.tokens, routing: routing, bytes: bytes)
}

@Test func evaluationAttacksRecoverSyntheticLeaks() throws {
    let bytes = Array(String(repeating: victimText, count: 3).utf8)
    var settings = AttackSettings()
    settings.clusters = Set(bytes).count
    let attacks = PrivacyAttacks(settings: settings, dimension: 16, reference: byteFrequencies(of: bytes))
    let observations = syntheticObservations(bytes)

    let clustered = try attacks.clustering(observations.layers[0], index: 0)
    for result in clustered {
        #expect(result.accuracy! > result.baseline! + 0.5, "\(result.name): \(result.accuracy!) vs \(result.baseline!)")
    }
    // Bytes that share a value mod 64 share a pattern, so known plaintext
    // recovers most but not all of them.
    let routed = attacks.routing(observations)
    #expect(routed[1].attack == .routingKnown)
    #expect(routed[1].accuracy! > routed[1].baseline! + 0.5, "\(routed[1].accuracy!) vs \(routed[1].baseline!)")

    let noise = attacks.routing(syntheticObservations(bytes, randomRouting: true))
    for result in noise {
        #expect(result.accuracy! < result.baseline! + 0.05, "\(result.name): \(result.accuracy!) vs \(result.baseline!)")
    }
}
