import Foundation
import Testing

@testable import PCMoECore

@Test func routingPicksOnlyAllowedExperts() {
    let probs = probabilities([[0.1, 0.5, 0.3, 0.1], [0.4, 0.1, 0.2, 0.3]])
    let r = Routing(probs: probs, k: 2, allowed: [true, false, true, true])
    #expect(r.expertOf == [2, 0, 0, 3])
    #expect(abs(r.weightOf[0] - 0.75) < 1e-6)
    #expect(r.slotsOf[1].isEmpty)
}

/// Collects values from taps that run on other threads.
private final class Tapped<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ item: T) { lock.withLock { items.append(item) } }
    var all: [T] { lock.withLock { items } }
}

@Test func ownExpertLayersKeepFirstLayerRowsHome() throws {
    let config = tinyConfig(experts: 6)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions(),
                                       ownExpertLayers: [0: 1])
    let received = Tapped<ReceivedRows>()
    for party in session.parties.dropFirst() {
        party.observeReceivedRows { if $0.sender == 0 { received.add($0) } }
    }
    for turn in 1...UInt64(3) {
        let party = session.parties[Int(turn - 1) % 3]
        let metrics = try party.trainTurn(tokens: randomTokens(config, batch: 2, seed: 40 + turn), turn: turn)
        #expect(metrics.loss.isFinite)
    }
    let layers = Set(received.all.map(\.layer))
    // Party 0 still sends its second layer's rows; its first layer stays home.
    #expect(layers == [1])
    #expect(received.all.allSatisfy { $0.experts.allSatisfy { $0 % 3 != 0 } })
}

@Test func ownExpertLayersNeedEnoughOwnedExperts() {
    var settings = PartySettings(id: 2, partyCount: 3, session: 1)
    settings.ownExpertLayers = 1
    // With 5 experts, party 2 owns experts 2 only: fewer than top-2.
    let few = errorMessage { _ = try Party(settings: settings, config: tinyConfig(experts: 5), options: collaborationOptions()) }
    #expect(few?.contains("fewer than top-k") == true)
    settings.ownExpertLayers = 3
    let many = errorMessage { _ = try Party(settings: settings, config: tinyConfig(experts: 6), options: collaborationOptions()) }
    #expect(many?.contains("the model has 2") == true)
    settings.ownExpertLayers = -1
    let negative = errorMessage { try settings.validate() }
    #expect(negative?.contains("give 0 or more") == true)
}

@Test func partyMoEInputsAreTheRowsItSends() throws {
    let config = tinyConfig(experts: 6)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
    let origins = Tapped<SentRowOrigins>(), received = Tapped<ReceivedRows>()
    session.parties[0].recordSentRowOrigins { if $0.owner == 1 { origins.add($0) } }
    session.parties[1].observeReceivedRows { if $0.sender == 0 { received.add($0) } }
    let tokens = randomTokens(config, batch: 2, seed: 5)
    let inputs = try session.parties[0].moeInputs(tokens: tokens)

    #expect(inputs.count == config.layers)
    #expect(inputs.allSatisfy { $0.count == 2 * config.sequence * config.dModel })
    let d = config.dModel
    var compared = 0
    for (origin, rows) in zip(origins.all, received.all) {
        #expect(origin.layer == rows.layer)
        #expect(rows.inference)
        for (r, position) in origin.positions.enumerated() {
            #expect(Array(rows.rows[(r * d)..<((r + 1) * d)]) == Array(inputs[rows.layer][(position * d)..<((position + 1) * d)]))
            compared += 1
        }
    }
    #expect(compared > 0)
    #expect(origins.all.count == received.all.count)
}
