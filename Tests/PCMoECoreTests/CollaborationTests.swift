import Foundation
import Testing
@testable import PCMoECore

/// Options for a collaborative test run of `batch` sequences per turn.
func collaborationOptions(steps: Int = 12, batch: Int = 2) -> TrainingOptions {
    var options = TrainingOptions()
    options.steps = steps
    options.batch = batch
    options.learningRate = 1e-2
    options.warmupFraction = 0
    options.seed = 7
    return options
}

/// Fills every tensor of `weights` with seeded values of scale `scale`, so
/// that parties' backbones differ from each other and from the initial ones.
func perturb(_ weights: ModelWeights, seed: UInt64, scale: Float) {
    for (name, t) in weights.named {
        var rng = SplitMix64(seed: seed, label: name)
        for i in 0..<t.count { t[i] += Float(rng.nextNormal(std: Double(scale))) }
    }
}

/// Builds a one-process model holding `party`'s backbone and every owner's experts.
func referenceModel(for party: Party, in session: InProcessSession) throws -> MoEModel {
    let model = try MoEModel(config: party.config, seed: 99)
    let sources = session.parties.flatMap { owner in
        owner.model.weights.named.filter { ExpertShard.isExpert($0.name) || owner.id == party.id }
    }
    let byName = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0.tensor) })
    for (name, tensor) in model.weights.named { tensor.copy(from: byName[name]!) }
    return model
}

/// Returns the largest |a − b| / max(|b|, 1e-3 · max|b|) over two tensors.
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    let scale = max((0..<b.count).map { abs(Double(b[$0])) }.max() ?? 0, 1e-30)
    var worst = 0.0
    for i in 0..<a.count {
        let diff = abs(Double(a[i]) - Double(b[i]))
        worst = max(worst, diff / max(abs(Double(b[i])), 1e-3 * scale))
    }
    return worst
}

@Test(arguments: [(2, 4, 2), (3, 5, 2), (4, 6, 3), (3, 8, 1)])
func distributedGradientsEqualOneProcess(parties: Int, experts: Int, topK: Int) throws {
    let config = tinyConfig(experts: experts, topK: topK)
    let session = try InProcessSession(partyCount: parties, config: config, options: collaborationOptions())
    for party in session.parties { perturb(party.model.weights, seed: UInt64(10 + party.id), scale: 0.05) }

    for party in session.parties {
        let tokens = randomTokens(config, batch: 2, seed: UInt64(party.id))
        let reference = try referenceModel(for: party, in: session)
        reference.gradients.zero()
        let expected = try reference.forward(tokens: tokens, batch: 2, training: true)
        try reference.backward(expected)

        let (pass, _) = try party.computeGradients(tokens: tokens, turn: UInt64(party.id + 1))
        #expect(abs(pass.loss - expected.loss) <= 1e-5 * abs(expected.loss))
        let reached = Dictionary(uniqueKeysWithValues: reference.gradients.named.map { ($0.name, $0.tensor) })
        for holder in session.parties {
            for (name, g) in holder.model.gradients.named where ExpertShard.isExpert(name) || holder.id == party.id {
                let error = relativeError(g, reached[name]!)
                #expect(error <= 1e-5, "\(name) at party \(holder.id): relative error \(error)")
            }
        }
        party.abortEverywhere(turn: UInt64(party.id + 1))
    }
}

@Test func ownerWithoutRowsStillMatchesAndSteps() throws {
    let config = tinyConfig(experts: 6, topK: 1)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
    let party = session.parties[0]
    // Experts 1 and 4 (party 1) get the router column of expert 0: with ties
    // going to the lower index, top-1 routing never picks them in layer 0.
    let router = party.model.weights.layers[0].router
    for row in 0..<config.dModel {
        for e in [1, 4] { router[row * config.experts + e] = router[row * config.experts] }
    }
    let owner = session.parties[1]
    let before = owner.traffic.received

    let tokens = randomTokens(config, batch: 2, seed: 5)
    let reference = try referenceModel(for: party, in: session)
    let expected = try reference.forward(tokens: tokens, batch: 2, training: true)
    try reference.backward(expected)
    let (pass, _) = try party.computeGradients(tokens: tokens, turn: 1)
    #expect(abs(pass.loss - expected.loss) <= 1e-5 * abs(expected.loss))
    let layer0 = owner.model.gradients.named.filter { $0.name.hasPrefix("layers.0.moe.experts.") }
    #expect(!layer0.isEmpty)
    #expect(layer0.allSatisfy { $0.tensor.values.allSatisfy { $0 == 0 } })
    #expect(owner.traffic.received > before)

    let weightsBefore = owner.model.weights.layers[0].experts[1]!.gate.values
    try party.stepEveryOwner(turn: 1, globalStep: 1)
    #expect(owner.expertSteps == 1)
    #expect(owner.model.weights.layers[0].experts[1]!.gate.values != weightsBefore, "weight decay still applies")
}

/// Collects every frame an in-process transport carries.
final class FrameLog: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [(to: Int, bytes: [UInt8])] = []

    func record(_ to: Int, _ bytes: [UInt8]) {
        lock.withLock { frames.append((to, bytes)) }
    }

    var all: [(to: Int, bytes: [UInt8])] { lock.withLock { frames } }
}

@Test func onlyExpertDataAndControlCrossBetweenParties() throws {
    let config = tinyConfig(experts: 5, topK: 2)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
    let log = FrameLog()
    session.transport.intercept = { to, bytes in
        log.record(to, bytes)
        return bytes
    }
    let party = session.parties[1]
    let tokens = randomTokens(config, batch: 2, seed: 3)
    let reference = try referenceModel(for: party, in: session)
    let pass = try reference.forward(tokens: tokens, batch: 2, training: true)
    let routed = pass.cache!.layers.map { layer in
        layer.moe.routing.slotsOf.enumerated().filter { $0.offset % 3 != 1 }.map(\.element.count).reduce(0, +)
    }
    reference.experts.discardPending()
    _ = try party.trainTurn(tokens: tokens, turn: 1)

    var forwardRows = 0
    for frame in log.all {
        let envelope = try Envelope.decode(frame.bytes, maxBytes: 1 << 24)
        switch envelope.body {
        case .forward(let request):
            #expect(envelope.sender == 1)
            #expect(frame.to != 1)
            #expect(request.rows.shape == [UInt64(request.experts.count), UInt64(config.dModel)])
            #expect(request.experts.allSatisfy { Int($0) % 3 == frame.to })
            forwardRows += request.experts.count
        case .forwardReply, .backward, .backwardReply, .step, .stepReply:
            break
        default:
            Issue.record("unexpected \(envelope.body.name) in a turn")
        }
    }
    // Every (token, slot) routed to another owner's expert crossed once, and nothing else did.
    #expect(forwardRows == routed.reduce(0, +))
    #expect(log.all.count == 4 * forwardRowsMessages(log) + 4)
}

/// Counts the forward requests in the log.
private func forwardRowsMessages(_ log: FrameLog) -> Int {
    log.all.filter {
        if case .forward = (try? Envelope.decode($0.bytes, maxBytes: 1 << 24))?.body { return true }
        return false
    }.count
}

/// Sends `body` from `sender` to `receiver` through `handle` and returns the reply body.
func exchange(_ session: InProcessSession, _ body: MessageBody, from sender: Int, to receiver: Int,
              id: UInt64) throws -> MessageBody {
    let bytes = Envelope(session: 1, sender: UInt32(sender), receiver: UInt32(receiver), requestID: id,
                         body: body).encoded()
    let reply = try #require(session.parties[receiver].handle(bytes))
    return try Envelope.decode(reply.bytes, maxBytes: .max).body
}

@Test func turnStateRulesAtAnOwner() throws {
    let config = tinyConfig(experts: 3, topK: 1)
    let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
    let owner = session.parties[1]
    let rows = WireTensor(Tensor([1, config.dModel], values: (0..<config.dModel).map { Float($0) / 8 }), dtype: .f32)
    let forward = MessageBody.forward(ExpertForwardRequest(turn: 1, layer: 0, experts: [1], rows: rows))
    let backward = MessageBody.backward(LayerTensor(turn: 1, layer: 0, tensor: rows))

    // A backward before its forward is refused and not remembered: the same
    // request id succeeds once the forward has arrived.
    guard case .error(let early) = try exchange(session, backward, from: 0, to: 1, id: 1002) else {
        Issue.record("a backward before its forward was accepted")
        return
    }
    #expect(early.code == .state)
    let forwardReply = try exchange(session, forward, from: 0, to: 1, id: 1001)
    let backwardReply = try exchange(session, backward, from: 0, to: 1, id: 1002)
    guard case .forwardReply = forwardReply, case .backwardReply = backwardReply else {
        Issue.record("the forward and backward were refused: \(forwardReply), \(backwardReply)")
        return
    }

    // The same layer cannot be forwarded twice in one turn, and another party cannot join the turn.
    guard case .error(let again) = try exchange(session, forward, from: 0, to: 1, id: 1003),
          case .error(let intruder) = try exchange(session, forward, from: 2, to: 1, id: 1001) else {
        Issue.record("a second forward of layer 0 in turn 1 was accepted")
        return
    }
    #expect(again.code == .state)
    #expect(again.message.contains("already sent a forward of layer 0"))
    #expect(intruder.code == .state)
    #expect(intruder.message.contains("belongs to party 0"))

    // The step of a newer turn gives up the open one, whose requester never stepped it.
    guard case .stepReply = try exchange(session, .step(StepBody(turn: 2, globalStep: 1)), from: 2, to: 1, id: 1005) else {
        Issue.record("the step of turn 2 was refused")
        return
    }
    #expect(owner.shard.abandonedTurns == 1)
    #expect(owner.expertSteps == 1)
    #expect(owner.shard.openTurn == 0)
}

@Test func partiesDrawPrivateBackbonesByDefault() throws {
    let options = collaborationOptions()
    let parties = try (0..<2).map { id in
        try Party(settings: PartySettings(id: id, partyCount: 2, session: 9), config: tinyConfig(), options: options)
    }
    let reference = try MoEModel(config: tinyConfig(), seed: options.seed)
    for party in parties {
        #expect(party.model.weights.tokEmb.values != reference.weights.tokEmb.values)
        let expert = party.id  // expert e belongs to party e mod 2
        #expect(party.model.weights.layers[0].experts[expert]!.gate.values
                    == reference.weights.layers[0].experts[expert]!.gate.values)
    }
    #expect(parties[0].model.weights.tokEmb.values != parties[1].model.weights.tokEmb.values)
}

@Test func replyCacheKeepsItsByteBound() {
    var cache = ReplyCache(capacity: 100, maxBytes: 1000)
    for i in 0..<20 {
        cache.store(sender: 1, requestID: UInt64(i), request: [UInt8(i)], turn: UInt64(i + 1),
                    reply: [UInt8](repeating: 7, count: 300))
    }
    #expect(cache.count == 3, "three replies of 300 bytes fit in 1000")
    guard case .hit = cache.lookup(sender: 1, requestID: 19, request: [19]) else {
        Issue.record("the newest reply was dropped")
        return
    }
    guard case .miss = cache.lookup(sender: 1, requestID: 0, request: [0]) else {
        Issue.record("the oldest reply was kept")
        return
    }
}

@Test func sessionRefusesMismatchedSeedsAndTimeouts() {
    #expect(throws: PCMoEError.self) {
        try InProcessSession(partyCount: 3, config: tinyConfig(), options: collaborationOptions(), backboneSeeds: [1])
    }
    var settings = PartySettings(id: 0, partyCount: 2, session: 1)
    settings.callTimeout = 1e10
    #expect(throws: PCMoEError.self) { try settings.validate() }
}
