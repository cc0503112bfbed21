import Foundation
import Testing
@testable import PCMoECore

/// Three small corpora with different byte statistics.
func threeCorpora() -> [Corpus] {
    let texts = ["the cat sat on the mat. ", "0123 4567 89ab cdef; ", "A long way down the river, "]
    return texts.enumerated().map { i, text in
        Corpus(name: "corpus\(i)", bytes: Array(String(repeating: text, count: 40).utf8))
    }
}

func smallComparison(rounds: Int = 6, learningRate: Double = 3e-3) throws -> Comparison {
    var options = collaborationOptions(steps: rounds, batch: 2)
    options.learningRate = learningRate
    return try Comparison(config: tinyConfig(experts: 5, topK: 2), options: options, corpora: threeCorpora(),
                          evalWindows: 4)
}

@Test func everyModeTrainsOnTheSameBatches() throws {
    let comparison = try smallComparison()
    var outcomes: [ComparisonMode: ModeOutcome] = [:]
    for mode in ComparisonMode.allCases { outcomes[mode] = try comparison.run(mode) }

    // Party 0's first batch meets the same initial weights in centralized,
    // local-full and PC-MoE training, so it gives the same loss. The wire type
    // changes that loss only a little, and private backbones change it.
    let first = outcomes[.centralized]!.losses[0][0]
    #expect(abs(outcomes[.localFull]!.losses[0][0] - first) <= 1e-6 * first)
    #expect(abs(outcomes[.pcmoe]!.losses[0][0] - first) <= 1e-5 * first)
    for mode in [ComparisonMode.pcmoeBF16, .pcmoeF16] {
        #expect(abs(outcomes[mode]!.losses[0][0] - first) <= 1e-2 * first, "\(mode)")
    }
    #expect(outcomes[.pcmoePrivate]!.losses[0][0] != first)
    for outcome in outcomes.values {
        #expect(outcome.losses.count == 3)
        #expect(outcome.losses.allSatisfy { $0.count == 6 })
        #expect(outcome.parties.map(\.party) == [0, 1, 2])
        #expect(outcome.parties.allSatisfy { $0.bitsPerByte.isFinite })
        #expect(outcome.parties.allSatisfy { $0.bitsPerByte > 0 })
    }
    for mode in [ComparisonMode.pcmoe, .pcmoeBF16] {
        #expect(outcomes[mode]!.parties.allSatisfy { $0.bytesSent > 0 })
        #expect(outcomes[mode]!.parties.allSatisfy { $0.bytesReceived > 0 })
    }
    let f32 = outcomes[.pcmoe]!.parties.map(\.bytesSent).reduce(0, +)
    let bf16 = outcomes[.pcmoeBF16]!.parties.map(\.bytesSent).reduce(0, +)
    #expect(Double(bf16) < 0.6 * Double(f32), "bf16 sends \(bf16) bytes, f32 \(f32)")
}

@Test func partiesHoldLessThanTheCentralizedModel() throws {
    var options = collaborationOptions(steps: 2, batch: 4)
    options.learningRate = 3e-3
    let config = ModelConfig(dModel: 32, heads: 2, layers: 2, experts: 6, topK: 2, expertHidden: 64, sequence: 16)
    let comparison = try Comparison(config: config, options: options, corpora: threeCorpora(), evalWindows: 2)
    let central = try comparison.run(.centralized)
    let pcmoe = try comparison.run(.pcmoe)
    let centralPeak = central.sharedPeakTotalBytes!
    for party in pcmoe.parties {
        #expect(party.peakTotalBytes < centralPeak, "party \(party.party): \(party.peakTotalBytes) of \(centralPeak)")
        #expect(party.peakBytes["served_activations"]! > 0)
        let expertShare = Double(party.peakBytes["parameters"]!) / Double(central.parties[0].peakBytes["parameters"]!)
        #expect(expertShare < 1)
    }
    #expect(comparison.localConfig(.localShard, party: 2).experts == 2)
    #expect(comparison.localConfig(.localShard, party: 0).topK == 2)
}

@Test func collaborativeTrainingLowersEveryPartysLoss() throws {
    let comparison = try smallComparison(rounds: 30, learningRate: 2e-2)
    let outcome = try comparison.run(.pcmoe)
    for (party, losses) in outcome.losses.enumerated() {
        let start = losses.prefix(3).reduce(0, +) / 3, end = losses.suffix(3).reduce(0, +) / 3
        #expect(end < start - 0.5, "party \(party): \(start) → \(end)")
    }
}

@Test func comparisonRefusesBadSetups() throws {
    let options = collaborationOptions()
    #expect(throws: PCMoEError.self) {
        try Comparison(config: tinyConfig(), options: options, corpora: Array(threeCorpora().prefix(1)))
    }
    #expect(throws: PCMoEError.self) {
        try Comparison(config: tinyConfig(experts: 2, topK: 1), options: options, corpora: threeCorpora())
    }
    let short = threeCorpora().prefix(2) + [Corpus(name: "tiny", bytes: Array("abc".utf8))]
    #expect(throws: PCMoEError.self) { try Comparison(config: tinyConfig(), options: options, corpora: Array(short)) }
}
