import Foundation
import Testing
@testable import PCMoECore

// Bad messages sent straight to a party through `Party.handle`, and the
// repeat, accumulation and abort rules of the expert shard.

/// Every tensor and counter of a party that a rejected request must leave
/// alone: weights, gradients, both optimizers' moments and step counts, and
/// the shard's turn bookkeeping, with floats kept as bit patterns.
private struct PartyState {
    let tensors: [String: [UInt32]]
    let counters: [String: Int]

    init(_ party: Party) {
        var tensors: [String: [UInt32]] = [:]
        var counters: [String: Int] = [:]
        func add(_ prefix: String, _ list: [(name: String, tensor: Tensor)]) {
            for (name, tensor) in list { tensors["\(prefix) \(name)"] = tensor.values.map(\.bitPattern) }
        }
        add("weight", party.model.weights.named)
        add("gradient", party.model.gradients.named)
        add("backbone first moment", party.backboneOptimizer.firstMoments)
        add("backbone second moment", party.backboneOptimizer.secondMoments)
        counters["backbone steps"] = party.backboneOptimizer.stepCount
        let shard = party.shard
        shard.lock.lock()
        add("expert first moment", shard.optimizer.firstMoments)
        add("expert second moment", shard.optimizer.secondMoments)
        counters["expert steps"] = shard.optimizer.stepCount
        counters["open turn"] = Int(shard.openTurn)
        counters["last stepped turn"] = Int(shard.lastSteppedTurn)
        counters["abandoned turns"] = shard.abandonedTurns
        let openTurn = shard.openTurn
        shard.lock.unlock()
        for requester in 0..<party.settings.partyCount {
            for layer in 0..<party.config.layers {
                let rows = shard.keptRows(requester: requester, turn: openTurn, layer: layer) ?? -1
                counters["kept rows of party \(requester) in layer \(layer)"] = rows
            }
        }
        self.tensors = tensors
        self.counters = counters
    }

    /// Lists the tensors and counters that differ from `other`, sorted by name.
    func differences(from other: PartyState) -> [String] {
        let tensorNames = Set(tensors.keys).union(other.tensors.keys).filter { tensors[$0] != other.tensors[$0] }
        let counterNames = Set(counters.keys).union(other.counters.keys).filter { counters[$0] != other.counters[$0] }
        return (tensorNames.sorted() + counterNames.sorted().map { "\($0): \(other.counters[$0] ?? -1) -> \(counters[$0] ?? -1)" })
    }
}

/// Three parties of session 41 with 3 layers of 6 experts, top-2. Party 2
/// has taken turn 1, and party 1, the party under test, keeps a forward of
/// layer 1 of turn 2 from party 0 (experts 1, 4, 1) that waits for its backward.
private final class ServingFixture {
    static let sessionID: UInt64 = 41
    /// Request ids far above the ones the parties pick for their own calls.
    static let keptID: UInt64 = 1 << 40
    static let backwardID = keptID + 1
    static let abortID = keptID + 2
    static let badID = keptID + 10
    static let keptExperts: [UInt32] = [1, 4, 1]

    let session: InProcessSession
    let config = ModelConfig(dModel: 8, heads: 2, layers: 3, experts: 6, topK: 2, expertHidden: 6, sequence: 5)
    /// The bytes of the kept forward request and of its reply.
    private(set) var keptForward: [UInt8] = []
    private(set) var keptReply: [UInt8] = []

    /// The party under test.
    var party: Party { session.parties[1] }

    init() throws {
        session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions(),
                                       session: Self.sessionID)
        for party in session.parties { perturb(party.model.weights, seed: UInt64(20 + party.id), scale: 0.05) }
        _ = try session.parties[2].trainTurn(tokens: randomTokens(config, batch: 2, seed: 3), turn: 1)
        keptForward = message(.forward(forward(layer: 1)), id: Self.keptID)
        keptReply = try #require(party.handle(keptForward)).bytes
        let reply = try Envelope.decode(keptReply, maxBytes: .max)
        guard case .forwardReply = reply.body else { throw PCMoEError.invalidArgument("kept forward: \(reply.body)") }
    }

    /// Encodes an envelope, by default from party 0 to party 1 in the fixture's session.
    func message(_ body: MessageBody, from sender: UInt32 = 0, to receiver: UInt32 = 1, id: UInt64 = ServingFixture.badID,
                 session: UInt64 = ServingFixture.sessionID, version: UInt32 = protocolVersion) -> [UInt8] {
        Envelope(session: session, sender: sender, receiver: receiver, requestID: id, body: body,
                 version: version).encoded()
    }

    /// Makes `count` rows of d_model seeded normal values.
    func rows(_ count: Int, dtype: WireDType = .f32, seed: UInt64 = 1) -> WireTensor {
        var rng = SplitMix64(seed: seed)
        let values = (0..<count * config.dModel).map { _ in Float(rng.nextNormal(std: 0.5)) }
        return WireTensor(Tensor([count, config.dModel], values: values), dtype: dtype)
    }

    /// Makes a forward whose default fields (turn 2, layer 2) are valid for party 1.
    func forward(layer: UInt32 = 2, turn: UInt64 = 2, experts: [UInt32] = ServingFixture.keptExperts,
                 rows: WireTensor? = nil, inference: Bool = false) -> ExpertForwardRequest {
        ExpertForwardRequest(turn: turn, layer: layer, experts: experts, rows: rows ?? self.rows(experts.count),
                             inference: inference)
    }

    /// Makes a backward whose default fields match the kept forward.
    func backward(layer: UInt32 = 1, turn: UInt64 = 2, gradients: WireTensor? = nil) -> MessageBody {
        .backward(LayerTensor(turn: turn, layer: layer, tensor: gradients ?? rows(Self.keptExperts.count, seed: 2)))
    }

    /// Completes the kept forward with its backward, aborts turn 2 at party
    /// 1, then lets party 0 take turn 2 through the transport.
    func finish() throws {
        let backwardReply = try Envelope.decode(try #require(party.handle(message(backward(), id: Self.backwardID))).bytes,
                                                maxBytes: .max)
        guard case .backwardReply = backwardReply.body else {
            throw PCMoEError.invalidArgument("the kept forward's backward got \(backwardReply.body)")
        }
        _ = party.handle(message(.abort(turn: 2), id: Self.abortID))
        _ = try session.parties[0].trainTurn(tokens: randomTokens(config, batch: 2, seed: 4), turn: 2)
    }
}

/// What party 1 must do with a bad message.
private enum BadInputOutcome: Sendable {
    /// Reply with an ErrorReply of this code, sent to this party (nil when
    /// the sender is not a valid party), carrying this layer when one is given.
    case errorReply(WireErrorCode, replyTo: Int?, layer: UInt32?)
    /// Send nothing and count the message as rejected.
    case dropped
}

/// A bad message for party 1 of a ``ServingFixture`` and the outcome it must have.
private struct BadInput: Sendable, CustomTestStringConvertible {
    let name: String
    let outcome: BadInputOutcome
    /// Texts that the error message, or the rejection reason of a dropped reply, must contain.
    let naming: @Sendable (ServingFixture, [UInt8]) -> [String]
    let bytes: @Sendable (ServingFixture) -> [UInt8]

    var testDescription: String { name }

    static func errorReply(_ name: String, _ code: WireErrorCode, replyTo: Int? = 0, layer: UInt32? = nil,
                        naming: [String], _ bytes: @escaping @Sendable (ServingFixture) -> [UInt8]) -> BadInput {
        BadInput(name: name, outcome: .errorReply(code, replyTo: replyTo, layer: layer), naming: { _, _ in naming },
                 bytes: bytes)
    }

    static func dropped(_ name: String, naming: [String],
                        _ bytes: @escaping @Sendable (ServingFixture) -> [UInt8]) -> BadInput {
        BadInput(name: name, outcome: .dropped, naming: { _, _ in naming }, bytes: bytes)
    }
}

/// Returns `tensor` with element `index` replaced by the low `dtype.size` bytes of `bits`, little-endian.
private func poisoned(_ tensor: WireTensor, at index: Int, bits: UInt32) -> WireTensor {
    var copy = tensor
    let size = tensor.dtype.size
    for byte in 0..<size { copy.data[index * size + byte] = UInt8(truncatingIfNeeded: bits >> (8 * byte)) }
    return copy
}

/// The flat index of row 2, column 5 in rows of width 8, where the poisoned tensors carry their bad value.
private let poisonIndex = 2 * 8 + 5

private let badInputs: [BadInput] = [
    // Frames that do not decode.
    BadInput(name: "a real forward request cut in half", outcome: .errorReply(.malformed, replyTo: nil, layer: nil),
             naming: { _, bytes in ["\(bytes.count) bytes"] },
             bytes: { f in Array(f.keptForward.prefix(f.keptForward.count / 2)) }),
    BadInput(name: "a forward frame over maxFrameBytes", outcome: .errorReply(.malformed, replyTo: nil, layer: nil),
             naming: { f, bytes in ["\(bytes.count) bytes", "\(f.party.maxFrameBytes)"] },
             bytes: { f in
                 let count = f.party.maxFrameBytes / (4 * f.config.dModel) + 1
                 return f.message(.forward(f.forward(experts: Array(repeating: 1, count: count))))
             }),
    BadInput(name: "a tensor of dtype 7", outcome: .errorReply(.malformed, replyTo: nil, layer: nil),
             naming: { _, _ in ["dtype 7"] },
             bytes: { f in
                 // The bf16 and f16 encodings of the same data bytes differ only in the dtype field.
                 let zeros = [UInt8](repeating: 0, count: 3 * 8 * 2)
                 let bf16 = f.message(.forward(f.forward(rows: WireTensor(dtype: .bf16, shape: [3, 8], data: zeros))))
                 var bytes = f.message(.forward(f.forward(rows: WireTensor(dtype: .f16, shape: [3, 8], data: zeros))))
                 let differing = bytes.indices.filter { bytes[$0] != bf16[$0] }
                 precondition(bytes.count == bf16.count && differing.count == 1 && bytes[differing[0]] == 2)
                 bytes[differing[0]] = 7
                 return bytes
             }),
    // protocol_version 1, session 41, sender 0, receiver 1, and no body.
    .errorReply("an envelope without a body", .malformed, replyTo: nil, naming: ["body case 0"]) { _ in
        [0x08, 0x01, 0x10, 41, 0x18, 0x00, 0x20, 0x01]
    },
    .errorReply("an empty frame", .malformed, replyTo: nil, naming: ["body case 0"]) { _ in [] },
    .errorReply("bytes that are not protobuf", .malformed, replyTo: nil, naming: ["10 bytes"]) { _ in
        [UInt8](repeating: 0xFF, count: 10)
    },

    // Addressing.
    .errorReply("protocol version 2", .version, naming: ["version 2", "version 1"]) { f in
        f.message(.forward(f.forward()), version: 2)
    },
    .errorReply("protocol version 0", .version, naming: ["version 0", "version 1"]) { f in
        f.message(.forward(f.forward()), version: 0)
    },
    .errorReply("another session", .session, naming: ["session 5", "session 41"]) { f in
        f.message(.forward(f.forward()), session: 5)
    },
    .errorReply("sender 3 of 3 parties", .session, replyTo: nil, naming: ["sender 3"]) { f in
        f.message(.forward(f.forward()), from: 3)
    },
    .errorReply("sender 2^32 - 1", .session, replyTo: nil, naming: ["sender 4294967295"]) { f in
        f.message(.forward(f.forward()), from: .max)
    },
    .errorReply("the receiver's own id as sender", .session, replyTo: nil, naming: ["sender 1"]) { f in
        f.message(.forward(f.forward()), from: 1)
    },
    .errorReply("a message addressed to party 2", .session, naming: ["party 2"]) { f in
        f.message(.forward(f.forward()), to: 2)
    },

    // Forward fields.
    .errorReply("an expert of party 0", .invalidRequest, layer: 2, naming: ["expert 0"]) { f in
        f.message(.forward(f.forward(experts: [1, 0, 4])))
    },
    .errorReply("expert 7 of 6", .invalidRequest, layer: 2, naming: ["expert 7", "6 experts"]) { f in
        f.message(.forward(f.forward(experts: [1, 7])))
    },
    .errorReply("expert 2^32 - 1", .invalidRequest, layer: 2, naming: ["expert 4294967295", "6 experts"]) { f in
        f.message(.forward(f.forward(experts: [4, .max])))
    },
    .errorReply("layer 3 of 3", .invalidRequest, layer: 3, naming: ["layer 3", "3 layers"]) { f in
        f.message(.forward(f.forward(layer: 3)))
    },
    .errorReply("layer 2^32 - 1", .invalidRequest, layer: .max, naming: ["layer 4294967295"]) { f in
        f.message(.forward(f.forward(layer: .max)))
    },
    .errorReply("more rows than a party accepts", .invalidRequest, layer: 2, naming: ["21 rows", "at most 20"]) { f in
        f.message(.forward(f.forward(experts: Array(repeating: 4, count: 21))))
    },
    .errorReply("rows of width 7", .invalidRequest, layer: 2, naming: ["[3, 7]", "[3, 8]"]) { f in
        let rows = WireTensor(dtype: .f32, shape: [3, 7], data: Array(repeating: 0, count: 3 * 7 * 4))
        return f.message(.forward(f.forward(rows: rows)))
    },
    .errorReply("3 rows for 2 experts", .invalidRequest, layer: 2, naming: ["[3, 8]", "[2, 8]"]) { f in
        f.message(.forward(f.forward(experts: [1, 4], rows: f.rows(3))))
    },
    .errorReply("rows without a tensor shape", .invalidRequest, layer: 2, naming: ["[]", "[3, 8]"]) { f in
        f.message(.forward(f.forward(rows: WireTensor(dtype: .f32, shape: [], data: []))))
    },
    .errorReply("shape [2^40, 8] with 16 bytes", .invalidRequest, layer: 2, naming: ["1099511627776"]) { f in
        let rows = WireTensor(dtype: .f32, shape: [1 << 40, 8], data: Array(repeating: 0, count: 16))
        return f.message(.forward(f.forward(experts: [1], rows: rows)))
    },
    .errorReply("shape [3, 8] with 16 bytes", .invalidRequest, layer: 2, naming: ["16 bytes", "96"]) { f in
        let rows = WireTensor(dtype: .f32, shape: [3, 8], data: Array(repeating: 0, count: 16))
        return f.message(.forward(f.forward(rows: rows)))
    },
    .errorReply("a shape whose product overflows", .invalidRequest, layer: 2,
             naming: ["[18446744073709551615, 18446744073709551615]"]) { f in
        let rows = WireTensor(dtype: .f32, shape: [.max, .max], data: Array(repeating: 0, count: 16))
        return f.message(.forward(f.forward(rows: rows)))
    },
    .errorReply("a 3-dimensional shape", .invalidRequest, layer: 2, naming: ["[3, 8, 4611686018427387904]"]) { f in
        let rows = WireTensor(dtype: .f32, shape: [3, 8, 1 << 62], data: Array(repeating: 0, count: 96))
        return f.message(.forward(f.forward(rows: rows)))
    },
    .errorReply("NaN in f32 rows", .notFinite, layer: 2, naming: ["nan", "row 2, column 5"]) { f in
        f.message(.forward(f.forward(rows: poisoned(f.rows(3), at: poisonIndex, bits: 0x7FC0_0000))))
    },
    .errorReply("infinity in f32 rows", .notFinite, layer: 2, naming: ["inf", "row 2, column 5"]) { f in
        f.message(.forward(f.forward(rows: poisoned(f.rows(3), at: poisonIndex, bits: 0x7F80_0000))))
    },
    .errorReply("NaN in bf16 rows", .notFinite, layer: 2, naming: ["nan", "row 2, column 5"]) { f in
        f.message(.forward(f.forward(rows: poisoned(f.rows(3, dtype: .bf16), at: poisonIndex, bits: 0x7FC0))))
    },
    .errorReply("minus infinity in bf16 rows", .notFinite, layer: 2, naming: ["-inf", "row 2, column 5"]) { f in
        f.message(.forward(f.forward(rows: poisoned(f.rows(3, dtype: .bf16), at: poisonIndex, bits: 0xFF80))))
    },
    .errorReply("NaN in f16 rows", .notFinite, layer: 2, naming: ["nan", "row 2, column 5"]) { f in
        f.message(.forward(f.forward(rows: poisoned(f.rows(3, dtype: .f16), at: poisonIndex, bits: 0x7E00))))
    },
    .errorReply("infinity in f16 rows", .notFinite, layer: 2, naming: ["inf", "row 2, column 5"]) { f in
        f.message(.forward(f.forward(rows: poisoned(f.rows(3, dtype: .f16), at: poisonIndex, bits: 0x7C00))))
    },
    .errorReply("a forward of the stepped turn 1", .state, layer: 2, naming: ["turn 1"]) { f in
        f.message(.forward(f.forward(turn: 1)))
    },
    .errorReply("a second forward of the kept layer", .state, layer: 1, naming: ["layer 1", "turn 2"]) { f in
        f.message(.forward(f.forward(layer: 1)))
    },

    // Backward fields.
    .errorReply("a backward of a layer never forwarded", .state, layer: 2, naming: ["layer 2"]) { f in
        f.message(f.backward(layer: 2))
    },
    .errorReply("a backward from a party that never forwarded", .state, replyTo: 2, layer: 1, naming: ["party 2"]) { f in
        f.message(f.backward(), from: 2)
    },
    .errorReply("a backward of turn 3", .state, layer: 1, naming: ["turn 3"]) { f in
        f.message(f.backward(turn: 3))
    },
    .errorReply("a backward of layer 3 of 3", .invalidRequest, layer: 3, naming: ["layer 3", "3 layers"]) { f in
        f.message(f.backward(layer: 3))
    },
    .errorReply("a backward with 2 rows for a forward of 3", .invalidRequest, layer: 1, naming: ["[2, 8]", "[3, 8]"]) { f in
        f.message(f.backward(gradients: f.rows(2)))
    },
    .errorReply("a backward of shape [2^40, 8] with 16 bytes", .invalidRequest, layer: 1, naming: ["1099511627776"]) { f in
        f.message(f.backward(gradients: WireTensor(dtype: .f32, shape: [1 << 40, 8], data: Array(repeating: 0, count: 16))))
    },
    .errorReply("NaN in f32 gradients", .notFinite, layer: 1, naming: ["nan", "row 2, column 5"]) { f in
        f.message(f.backward(gradients: poisoned(f.rows(3), at: poisonIndex, bits: 0x7FC0_0000)))
    },
    .errorReply("infinity in f16 gradients", .notFinite, layer: 1, naming: ["inf", "row 2, column 5"]) { f in
        f.message(f.backward(gradients: poisoned(f.rows(3, dtype: .f16), at: poisonIndex, bits: 0x7C00)))
    },
    .errorReply("NaN in bf16 gradients", .notFinite, layer: 1, naming: ["nan", "row 2, column 5"]) { f in
        f.message(f.backward(gradients: poisoned(f.rows(3, dtype: .bf16), at: poisonIndex, bits: 0x7FC0)))
    },

    // Steps.
    .errorReply("global step 5 in turn 2", .state, naming: ["global step 5", "taken 1"]) { f in
        f.message(.step(StepBody(turn: 2, globalStep: 5)))
    },
    .errorReply("global step 1 again in turn 2", .state, naming: ["global step 1"]) { f in
        f.message(.step(StepBody(turn: 2, globalStep: 1)))
    },
    .errorReply("a step of the stepped turn 1", .state, naming: ["turn 1"]) { f in
        f.message(.step(StepBody(turn: 1, globalStep: 2)))
    },
    .errorReply("a step of turn 2 from a party other than its owner", .state, replyTo: 2,
                naming: ["turn 2 belongs to party 0"]) { f in
        f.message(.step(StepBody(turn: 2, globalStep: 2)), from: 2)
    },

    // A used request id.
    .errorReply("the kept forward's id on another forward", .state, naming: ["request id \(ServingFixture.keptID)"]) { f in
        f.message(.forward(f.forward()), id: ServingFixture.keptID)
    },
    .errorReply("the kept forward's id on a step", .state, naming: ["request id \(ServingFixture.keptID)"]) { f in
        f.message(.step(StepBody(turn: 2, globalStep: 2)), id: ServingFixture.keptID)
    },

    // Replies that match no waiting request.
    .dropped("an ExpertForwardReply for no waiting request", naming: ["ExpertForwardReply", "\(ServingFixture.badID)"]) { f in
        f.message(.forwardReply(LayerTensor(turn: 2, layer: 0, tensor: f.rows(3))))
    },
    .dropped("an ErrorReply for no waiting request", naming: ["ErrorReply", "party 2"]) { f in
        f.message(.error(ErrorReply(code: .internalError, message: "out of memory.")), from: 2)
    },
    .dropped("an ExpertForwardReply from a party the request did not go to", naming: ["party 0"]) { f in
        let id = f.party.calls.open(peer: 2)
        return f.message(.forwardReply(LayerTensor(turn: 2, layer: 0, tensor: f.rows(3))), id: id)
    },
    .dropped("an ExpertBackwardReply from sender 7", naming: ["sender 7"]) { f in
        f.message(.backwardReply(LayerTensor(turn: 2, layer: 0, tensor: f.rows(3))), from: 7)
    },
    .dropped("a StepReply in protocol version 3", naming: ["version 3"]) { f in
        f.message(.stepReply(StepBody(turn: 2, globalStep: 2, gradientNorm: 1)), version: 3)
    },
    .dropped("an ErrorReply from another session", naming: ["session 5"]) { f in
        f.message(.error(ErrorReply(code: .state, message: "no.")), session: 5)
    },
]

@Test(arguments: badInputs)
private func badInputLeavesPartyUnchanged(_ input: BadInput) throws {
    let fixture = try ServingFixture()
    let party = fixture.party
    let before = PartyState(party)
    let rejectedBefore = party.traffic.rejected
    let bytes = input.bytes(fixture)
    let names = input.naming(fixture, bytes)

    let outgoing = party.handle(bytes)
    switch input.outcome {
    case .errorReply(let code, let destination, let layer):
        let out = try #require(outgoing)
        #expect(out.destination == destination)
        let reply = try Envelope.decode(out.bytes, maxBytes: .max)
        guard case .error(let rejection) = reply.body else {
            Issue.record("expected an ErrorReply, got \(reply.body)")
            return
        }
        #expect(rejection.code == code, "\(rejection.message)")
        for name in names {
            #expect(rejection.message.contains(name), "\"\(rejection.message)\" does not name \(name)")
        }
        if let layer {
            #expect(rejection.layer == layer, "\(rejection.message)")
        }
        // The reply to a frame that does not decode carries request id 0.
        let decoded = try? Envelope.decode(bytes, maxBytes: party.maxFrameBytes)
        #expect(reply.requestID == decoded?.requestID ?? 0)
        #expect(reply.sender == 1)
        #expect(reply.receiver == UInt32(destination ?? 0))
        #expect(reply.session == decoded?.session ?? ServingFixture.sessionID, "a refusal carries its request's session")
        #expect(reply.version == protocolVersion)
        #expect(party.lastRejectionReason == rejection.message)
    case .dropped:
        #expect(outgoing == nil)
        for name in names {
            #expect(party.lastRejectionReason.contains(name), "\"\(party.lastRejectionReason)\" does not name \(name)")
        }
    }
    #expect(party.traffic.rejected == rejectedBefore + 1)
    let changed = PartyState(party).differences(from: before)
    #expect(changed.isEmpty, "changed: \(changed)")

    // The kept forward still takes its backward, and a normal turn follows
    // that leaves party 1 exactly as in a session that never saw the message.
    try fixture.finish()
    #expect(party.expertSteps == 2)
    let control = try ServingFixture()
    try control.finish()
    let drift = PartyState(party).differences(from: PartyState(control.party))
    #expect(drift.isEmpty, "differs from the session without the bad message: \(drift)")
}

@Test func repeatedForwardReturnsCachedReply() throws {
    let fixture = try ServingFixture()
    let party = fixture.party
    let before = PartyState(party)
    // A different request under the kept forward's id is rejected, and the rejection is not cached.
    let conflicting = fixture.message(.forward(fixture.forward()), id: ServingFixture.keptID)
    let conflict = try Envelope.decode(try #require(party.handle(conflicting)).bytes, maxBytes: .max)
    guard case .error(let rejection) = conflict.body, rejection.code == .state else {
        Issue.record("a conflicting request got \(conflict.body)")
        return
    }
    let again = try #require(party.handle(fixture.keptForward))
    #expect(again.bytes == fixture.keptReply)
    #expect(again.destination == 0)
    #expect(PartyState(party).differences(from: before).isEmpty)

    // A repeated inference forward is computed again, to the same bytes, and keeps nothing.
    let inference = fixture.message(.forward(fixture.forward(inference: true)), id: ServingFixture.badID)
    let first = try #require(party.handle(inference)).bytes
    let second = try #require(party.handle(inference)).bytes
    guard case .forwardReply = try Envelope.decode(first, maxBytes: .max).body else {
        Issue.record("the inference forward was rejected")
        return
    }
    #expect(first == second)
    #expect(PartyState(party).differences(from: before).isEmpty)
    try fixture.finish()
}

/// Envelopes seen by an ``InProcessTransport`` intercept, and the requests already repeated.
private final class MessageLog: @unchecked Sendable {
    struct Entry {
        let destination: Int
        let envelope: Envelope
        let bytes: [UInt8]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private var repeated: Set<[UInt64]> = []

    func record(_ entry: Entry) { lock.withLock { entries.append(entry) } }

    /// True the first time it is called for this request.
    func markRepeated(_ envelope: Envelope) -> Bool {
        lock.withLock { repeated.insert([UInt64(envelope.sender), UInt64(envelope.receiver), envelope.requestID]).inserted }
    }

    var all: [Entry] { lock.withLock { entries } }
}

/// Polls `condition` every millisecond for up to 10 s and returns its last value.
private func eventually(_ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: 10)
    while !condition() {
        if Date() > deadline { return false }
        usleep(1000)
    }
    return true
}

/// Three parties with 6 experts, top-2, and backbones that differ by party.
private func perturbedSession(partyCount: Int = 3) throws -> InProcessSession {
    let session = try InProcessSession(partyCount: partyCount, config: tinyConfig(experts: 6, topK: 2),
                                       options: collaborationOptions())
    for party in session.parties { perturb(party.model.weights, seed: UInt64(30 + party.id), scale: 0.05) }
    return session
}

@Test func repeatedRequestsComputedOnce() throws {
    let control = try perturbedSession()
    let session = try perturbedSession()
    let requester = session.parties[0]
    let log = MessageLog()
    session.transport.intercept = { [weak transport = session.transport] destination, bytes in
        guard let envelope = try? Envelope.decode(bytes, maxBytes: .max) else { return bytes }
        log.record(MessageLog.Entry(destination: destination, envelope: envelope, bytes: bytes))
        switch envelope.body {
        case .forward, .backward, .step:
            // The copy passes through this intercept again and is not repeated a second time.
            if log.markRepeated(envelope) { transport?.send(bytes, to: destination) }
        default:
            break
        }
        return bytes
    }

    let tokens = randomTokens(control.parties[0].config, batch: 2, seed: 9)
    _ = try control.parties[0].computeGradients(tokens: tokens, turn: 1)
    _ = try requester.computeGradients(tokens: tokens, turn: 1)
    for (mine, theirs) in zip(session.parties, control.parties) {
        let drift = PartyState(mine).differences(from: PartyState(theirs))
        #expect(drift.isEmpty, "party \(mine.id) after the backward: \(drift)")
    }
    try control.parties[0].stepEveryOwner(turn: 1)
    try requester.stepEveryOwner(turn: 1)

    let requests = log.all.filter { $0.envelope.body.isRequest }
    let kinds = Set(requests.map(\.envelope.body.name))
    #expect(kinds == ["ExpertForwardRequest", "ExpertBackwardRequest", "StepRequest"])
    // Each request went out twice; the second reply of each is dropped by the requester.
    let repeatedCount = requests.count / 2
    #expect(eventually { requester.traffic.rejected == repeatedCount },
            "the requester dropped \(requester.traffic.rejected) replies; \(repeatedCount) were repeats")
    let replies = log.all.filter { !$0.envelope.body.isRequest }
    for request in requests {
        let answers = replies.filter {
            $0.envelope.requestID == request.envelope.requestID && Int($0.envelope.sender) == request.destination
        }
        #expect(answers.count == 2, "request \(request.envelope.requestID) got \(answers.count) replies")
        #expect(Set(answers.map(\.bytes)).count == 1, "request \(request.envelope.requestID) got different replies")
        if case .error(let rejection) = answers.first?.envelope.body {
            Issue.record("request \(request.envelope.requestID) was rejected: \(rejection.message)")
        }
    }
    for (mine, theirs) in zip(session.parties, control.parties) {
        #expect(mine.expertSteps == 1)
        let drift = PartyState(mine).differences(from: PartyState(theirs))
        #expect(drift.isEmpty, "party \(mine.id) after the step: \(drift)")
    }

    // The same requests sent again with handle after the step get the cached bytes and change nothing.
    let owner = session.parties[1]
    let before = PartyState(owner)
    for request in requests where request.destination == 1 {
        let reply = try #require(replies.first {
            $0.envelope.requestID == request.envelope.requestID && $0.envelope.sender == 1
        })
        #expect(owner.handle(request.bytes)?.bytes == reply.bytes, "\(request.envelope.body.name)")
    }
    #expect(owner.expertSteps == 1)
    #expect(PartyState(owner).differences(from: before).isEmpty)
}

@Test func expertGradientsCoverOneTurn() throws {
    let session = try perturbedSession()
    for (turn, taker) in [(UInt64(1), 0), (2, 1), (3, 0)] {
        let party = session.parties[taker]
        let tokens = randomTokens(party.config, batch: 2, seed: 40 + turn)
        let reference = try referenceModel(for: party, in: session)
        reference.gradients.zero()
        let expected = try reference.forward(tokens: tokens, batch: 2, training: true)
        try reference.backward(expected)
        let reached = Dictionary(uniqueKeysWithValues: reference.gradients.named.map { ($0.name, $0.tensor) })

        _ = try party.computeGradients(tokens: tokens, turn: turn)
        for owner in session.parties {
            var used = 0
            for (name, gradient) in owner.model.gradients.named where ExpertShard.isExpert(name) {
                let error = relativeError(gradient, reached[name]!)
                #expect(error <= 1e-5, "turn \(turn), \(name) at party \(owner.id): relative error \(error)")
                if gradient.values.contains(where: { $0 != 0 }) { used += 1 }
            }
            #expect(used > 0, "no expert of party \(owner.id) got rows in turn \(turn)")
        }
        try party.stepEveryOwner(turn: turn)
        for owner in session.parties {
            #expect(owner.expertSteps == Int(turn), "party \(owner.id) after turn \(turn)")
        }
    }
}

@Test func abortClearsEveryOwner() throws {
    let session = try perturbedSession()
    let config = session.parties[0].config
    let party = session.parties[0]
    _ = try party.computeGradients(tokens: randomTokens(config, batch: 2, seed: 50), turn: 1)
    for owner in session.parties {
        let expertGradients = owner.model.gradients.named.filter { ExpertShard.isExpert($0.name) }
        #expect(expertGradients.contains { $0.tensor.values.contains { $0 != 0 } }, "party \(owner.id) got no gradient")
    }

    party.abortEverywhere(turn: 1)
    for owner in session.parties {
        for (name, gradient) in owner.model.gradients.named where ExpertShard.isExpert(name) {
            #expect(gradient.values.allSatisfy { $0 == 0 }, "\(name) at party \(owner.id) kept its gradient")
        }
        #expect(owner.shard.openTurn == 0)
    }

    // A forward of turn 2 that waits for its backward at every owner, then an abort.
    party.remote.turn = 2
    _ = try party.model.forward(tokens: randomTokens(config, batch: 2, seed: 52), batch: 2, training: true)
    for owner in session.parties.dropFirst() {
        #expect(owner.shard.keptRows(requester: 0, turn: 2, layer: 0) != nil, "party \(owner.id) keeps no rows")
    }
    party.abortEverywhere(turn: 2)
    let rows = WireTensor(Tensor([2, config.dModel]), dtype: .f32)
    for owner in session.parties.dropFirst() {
        #expect(owner.shard.keptRows(requester: 0, turn: 2, layer: 0) == nil)
        let backward = LayerTensor(turn: 2, layer: 0, tensor: rows)
        let bytes = Envelope(session: 1, sender: 0, receiver: UInt32(owner.id), requestID: (1 << 40) + UInt64(owner.id),
                             body: .backward(backward)).encoded()
        let reply = try Envelope.decode(try #require(owner.handle(bytes)).bytes, maxBytes: .max)
        guard case .error(let rejection) = reply.body else {
            Issue.record("a backward after the abort got \(reply.body) from party \(owner.id)")
            continue
        }
        #expect(rejection.code == .state, "\(rejection.message)")
        #expect(rejection.message.contains("layer 0"), "\(rejection.message)")
    }

    // The aborted turn can be taken again, and every owner steps once.
    _ = try party.trainTurn(tokens: randomTokens(config, batch: 2, seed: 51), turn: 3)
    for owner in session.parties { #expect(owner.expertSteps == 1) }
}
