import Foundation
import Testing

@testable import PCMoECore

/// A trained three-party session (two rounds) and party 1's model in one process.
func trainedSession() throws -> (InProcessSession, MoEModel) {
    let session = try InProcessSession(partyCount: 3, config: tinyConfig(experts: 6), options: collaborationOptions())
    for turn in 1...UInt64(6) {
        let party = session.parties[Int(turn - 1) % 3]
        _ = try party.trainTurn(tokens: randomTokens(tinyConfig(experts: 6), batch: 2, seed: 60 + turn), turn: turn)
    }
    return (session, try referenceModel(for: session.parties[1], in: session))
}

@Test func collaborativeScoreEqualsOneProcessModel() throws {
    let (session, reference) = try trainedSession()
    let text = randomTokens(tinyConfig(experts: 6), batch: 6, seed: 5)
    let together = try session.parties[1].evaluate(text[...])
    let alone = try reference.evaluate(text[...], batch: 2)
    #expect(abs(together.loss - alone.loss) <= 1e-5 * alone.loss)
    #expect(together.tokens == alone.tokens)
}

@Test func greedyGenerationEqualsOneProcessModel() throws {
    let (session, reference) = try trainedSession()
    var greedy = SamplingOptions()
    greedy.temperature = 0
    let prompt: [UInt8] = Array("the ".utf8)
    let together = try session.parties[1].generate(prompt: prompt, maxBytes: 12, sampling: greedy)
    let alone = try reference.generate(prompt: prompt, maxBytes: 12, sampling: greedy)
    #expect(together.count == 12)
    #expect(together == alone)
}

@Test func seededGenerationRepeats() throws {
    let (session, _) = try trainedSession()
    var options = SamplingOptions()
    options.temperature = 1.5
    options.topK = 40
    options.topP = 0.9
    options.seed = 77
    let first = try session.parties[0].generate(prompt: [65], maxBytes: 20, sampling: options)
    let second = try session.parties[0].generate(prompt: [65], maxBytes: 20, sampling: options)
    options.seed = 78
    let other = try session.parties[0].generate(prompt: [65], maxBytes: 20, sampling: options)
    #expect(first == second)
    #expect(first != other)
}

@Test func inferenceLeavesOwnersUnchanged() throws {
    let (session, _) = try trainedSession()
    let owners = [session.parties[0], session.parties[2]]
    let before = owners.map(snapshot)
    var options = SamplingOptions()
    options.seed = 3
    _ = try session.parties[1].generate(prompt: [66, 67], maxBytes: 8, sampling: options)
    _ = try session.parties[1].evaluate(randomTokens(tinyConfig(experts: 6), batch: 4, seed: 9)[...])
    #expect(owners.map(snapshot) == before)
}

@Test func callbackCannotStartAnotherCall() throws {
    let (session, _) = try trainedSession()
    let party = session.parties[1]
    var nested: String?
    let produced = try party.generate(prompt: [65], maxBytes: 3, sampling: SamplingOptions()) { _ in
        do {
            _ = try party.evaluate(randomTokens(tinyConfig(experts: 6), batch: 2, seed: 1)[...])
        } catch {
            nested = (error as? PCMoEError)?.message
        }
        return false
    }
    #expect(produced.count == 1)
    #expect(nested?.contains("a callback of that call cannot start another one") == true)
    #expect(try party.evaluate(randomTokens(tinyConfig(experts: 6), batch: 2, seed: 1)[...]).loss.isFinite)
}

/// Every weight, gradient and optimizer moment of a party, and its step counts, as bytes.
private func snapshot(_ party: Party) -> [[Float]] {
    let tensors = party.model.weights.named.map(\.tensor) + party.model.gradients.named.map(\.tensor)
        + party.checkpointTensors.map(\.1)
    return tensors.map { Array($0.values) } + [[Float(party.expertSteps), Float(party.backboneOptimizer.stepCount)]]
}

@Test func samplerKeepsTopKAndTopP() {
    var logits = [Float](repeating: -50, count: 256)
    logits[10] = 5
    logits[20] = 4.9
    logits[30] = 1
    var options = SamplingOptions()
    options.topK = 2
    var sampler = ByteSampler(options: options)
    let drawn = Set((0..<400).map { _ in sampler.next(logits[...]) })
    #expect(drawn == [10, 20])

    options.topK = 0
    options.topP = 0.3
    sampler = ByteSampler(options: options)
    #expect(Set((0..<100).map { _ in sampler.next(logits[...]) }) == [10])

    options.temperature = 0
    logits[20] = 5
    var greedy = ByteSampler(options: options)
    #expect(greedy.next(logits[...]) == 10)
}

@Test(arguments: [(-0.5, 0, 1.0), (1.0, 257, 1.0), (1.0, 0, 0.0), (1.0, 0, 1.5), (Double.nan, 0, 1.0)])
func samplingOptionsRejectBadValues(temperature: Double, topK: Int, topP: Double) {
    var options = SamplingOptions()
    options.temperature = temperature
    options.topK = topK
    options.topP = topP
    #expect(throws: PCMoEError.self) { try options.validate() }
}
