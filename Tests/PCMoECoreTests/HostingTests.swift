import Foundation
import Testing

@testable import PCMoECore

/// Parses `json` as a party configuration, or returns the error's message.
private func parseError(_ json: String) -> String? {
    do {
        _ = try PartyConfig.parse(Data(json.utf8), name: "test.json")
        return nil
    } catch {
        return "\(error)"
    }
}

@Test func partyConfigTakesDefaults() throws {
    let config = try PartyConfig.parse(Data(#"{"party": {"id": 1, "party_count": 2, "session": 9}}"#.utf8), name: "t")
    #expect(config.settings.id == 1)
    #expect(config.settings.partyCount == 2)
    #expect(config.settings.session == 9)
    #expect(config.settings.backboneSeed == nil)
    #expect(config.settings.wireType == .f32)
    #expect(config.settings.rowNoise == nil)
    #expect(config.settings.ownExpertLayers == 0)
    #expect(config.model == ModelConfig())
    #expect(config.training == TrainingOptions())
    #expect(config.data.isEmpty)
}

@Test func partyConfigReadsEveryKey() throws {
    let json = """
        {"party": {"id": 0, "party_count": 3, "session": 4, "wire_type": "f16", "call_timeout_seconds": 2.5,
                   "call_retries": 7, "backbone_seed": 18446744073709551615, "row_clip_norm": 3.5,
                   "row_noise_sigma": 0.25, "own_expert_layers": 2},
         "model": {"d_model": 32, "n_heads": 2, "n_layers": 3, "n_experts": 5, "top_k": 1,
                   "expert_hidden": 40, "seq_len": 12},
         "training": {"steps": 7, "batch": 3, "learning_rate": 0.01, "warmup_fraction": 0.5,
                      "min_lr_ratio": 0.2, "weight_decay": 0.0, "clip_norm": 2.0, "seed": 11},
         "data": ["/a", "b"]}
        """
    let config = try PartyConfig.parse(Data(json.utf8), name: "t")
    #expect(config.settings.wireType == .f16)
    #expect(config.settings.callTimeout == 2.5)
    #expect(config.settings.callRetries == 7)
    #expect(config.settings.backboneSeed == UInt64.max)
    #expect(config.settings.rowNoise == RowNoise(clipNorm: 3.5, sigma: 0.25, seed: nil))
    #expect(config.settings.ownExpertLayers == 2)
    #expect(config.model == ModelConfig(dModel: 32, heads: 2, layers: 3, experts: 5, topK: 1, expertHidden: 40, sequence: 12))
    #expect(config.training.steps == 7)
    #expect(config.training.batch == 3)
    #expect(config.training.learningRate == 0.01)
    #expect(config.training.warmupFraction == 0.5)
    #expect(config.training.minLearningRateRatio == 0.2)
    #expect(config.training.weightDecay == 0)
    #expect(config.training.clipNorm == 2)
    #expect(config.training.seed == 11)
    #expect(config.data == ["/a", "b"])
}

@Test(arguments: [
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "sesion": 2}}"#, "unknown key \"sesion\" in \"party\""),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1}, "modle": {}}"#, "unknown key \"modle\""),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1}, "training": {"lr": 1}}"#, "unknown key \"lr\""),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1}, "model": {"heads": 1}}"#, "unknown model configuration key"),
    (#"{"party": {"id": 0, "party_count": 2}}"#, "\"session\""),
    (#"{"model": {}}"#, "no \"party\" section"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1}, "training": {"steps": 1e30}}"#, "training.steps"),
    (#"{"party": {"id": 0, "party_count": 2, "session": -1}}"#, "party.session"),
    (#"{"party": {"id": 1.5, "party_count": 2, "session": 1}}"#, "party.id"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "wire_type": 16}}"#, "party.wire_type"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1}, "model": {"d_model": 64.5}}"#, "\"model.d_model\" is 64.5"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "backbone_seed": 18446744073709551616}}"#,
     "party.backbone_seed"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "wire_type": "fp16"}}"#, "f32, bf16 or f16"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1}, "data": "x.txt"}"#, "\"data\""),
    (#"{"party": null}"#, "no \"party\" section"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "row_noise_sigma": 0.5}}"#,
     "\"party.row_noise_sigma\" is 0.5 but \"party.row_clip_norm\" is 0"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "row_clip_norm": -1}}"#, "\"party.row_clip_norm\" is -1.0"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "row_clip_norm": 1, "row_noise_sigma": -2}}"#,
     "\"party.row_noise_sigma\" is -2.0"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "row_clip_norm": "big"}}"#, "party.row_clip_norm"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "own_expert_layers": -1}}"#,
     "\"party.own_expert_layers\" is -1"),
    (#"{"party": {"id": 0, "party_count": 2, "session": 1, "own_expert_layers": 1.5}}"#, "party.own_expert_layers"),
    ("", "not valid JSON"),
])
func partyConfigRejects(json: String, expected: String) {
    let message = parseError(json)
    #expect(message?.contains("test.json") == true)
    #expect(message?.contains(expected) == true, "\(message ?? "no error")")
}

@Test func partyConfigResolvesRelativeData() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("conf/party.json", #"{"party": {"id": 0, "party_count": 2, "session": 1}, "data": ["text.txt", "/abs.txt"]}"#)
    let config = try PartyConfig.load(path: path)
    #expect(config.data == [folder.path + "/conf/text.txt", "/abs.txt"])
}

@Test func partyConfigChecksOwnExpertLayersOnLoad() throws {
    let folder = try TemporaryFolder()
    let model = #""model": {"d_model": 16, "n_heads": 2, "n_layers": 2, "n_experts": 5, "top_k": 2}"#
    let clipOnly = try folder.write("clip.json", #"{"party": {"id": 0, "party_count": 2, "session": 1, "row_clip_norm": 4, "#
                                        + #""own_expert_layers": 2}, "# + model + "}")
    let config = try PartyConfig.load(path: clipOnly)
    #expect(config.settings.rowNoise == RowNoise(clipNorm: 4, sigma: 0, seed: nil))
    #expect(config.settings.ownExpertLayers == 2)

    let tooMany = try folder.write("many.json", #"{"party": {"id": 0, "party_count": 2, "session": 1, "#
                                       + #""own_expert_layers": 3}, "# + model + "}")
    let many = errorMessage { _ = try PartyConfig.load(path: tooMany) }
    #expect(many?.contains("many.json") == true, "\(many ?? "no error")")
    #expect(many?.contains("\"party.own_expert_layers\" is 3, but the model has 2 layers") == true, "\(many ?? "no error")")

    // With three parties and five experts, party 2 owns only expert 2, fewer than top-2.
    let fewOwned = try folder.write("few.json", #"{"party": {"id": 2, "party_count": 3, "session": 1, "#
                                        + #""own_expert_layers": 1}, "# + model + "}")
    let few = errorMessage { _ = try PartyConfig.load(path: fewOwned) }
    #expect(few?.contains("\"party.own_expert_layers\" is 1, but party 2 owns 1 of 5 experts") == true,
            "\(few ?? "no error")")
}

@Test func partyConfigRejectsLargeFiles() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("big.json", [UInt8](repeating: 32, count: PartyConfig.maxFileBytes + 1))
    #expect(throws: PCMoEError.self) { try PartyConfig.load(path: path) }
    #expect(throws: PCMoEError.self) { try PartyConfig.load(path: folder.path + "/missing.json") }
}

@Test func receiveReportsRefusals() throws {
    let session = try InProcessSession(partyCount: 2, config: tinyConfig(), options: collaborationOptions())
    let party = session.parties[1]
    let junk = party.receive([0xff, 0x00, 0x13])
    #expect(junk.refusal != nil)
    #expect(junk.reply?.destination == nil)

    let hello = Hello(partyCount: 2, config: party.config, options: party.options)
    let bytes = Envelope(session: 1, sender: 0, receiver: 1, requestID: 99, body: .hello(hello)).encoded()
    let accepted = party.receive(bytes)
    #expect(accepted.refusal == nil)
    #expect(accepted.reply?.destination == 0)

    let stray = Envelope(session: 1, sender: 0, receiver: 1, requestID: 12345, body: .abortReply(turn: 3)).encoded()
    #expect(party.receive(stray).refusal?.contains("not waiting") == true)
}

@Test func connectChecksPartyCount() throws {
    let transport = InProcessTransport(partyCount: 3)
    let party = try Party(settings: PartySettings(id: 0, partyCount: 2, session: 1), config: tinyConfig(),
                          options: collaborationOptions())
    #expect(throws: PCMoEError.self) { try transport.connect(party) }
    #expect(party.transport == nil)
}

@Test func transportDoesNotKeepPartiesAlive() throws {
    let transport = InProcessTransport(partyCount: 1)
    weak var released: Party?
    do {
        let party = try Party(settings: PartySettings(id: 0, partyCount: 1, session: 1), config: tinyConfig(),
                              options: collaborationOptions())
        try transport.connect(party)
        released = party
    }
    #expect(released == nil)
}

@Test func logSinkReceivesRejections() throws {
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var all: [(LogLevel, String)] = []
    }
    let lines = Lines()
    let session = try InProcessSession(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), session: 4242)
    Log.set(level: .warning) { level, text in lines.lock.withLock { lines.all.append((level, text)) } }
    _ = session.parties[0].receive([0x01])
    Log.set(level: .warning, sink: nil)
    let mine = lines.lock.withLock { lines.all.filter { $0.1.contains("party 0 rejected") } }
    #expect(mine.contains { $0.0 == .warning })
    #expect(!Log.enabled(.error))
}

@Test func cancelDuringStepsStillCommits() throws {
    let session = try InProcessSession(partyCount: 2, config: tinyConfig(), options: collaborationOptions())
    let (a, b) = (session.parties[0], session.parties[1])
    let delayed = DelayedSteps()
    // Party 1's step request to party 0 is held back for 200 ms, and party 1
    // is cancelled as it sends it, so the step commits only if party 1 waits.
    session.transport.intercept = { [transport = session.transport] destination, bytes in
        guard destination == 0, !delayed.released(bytes),
              let envelope = try? Envelope.decode(bytes, maxBytes: 1 << 20), case .step = envelope.body else { return bytes }
        b.cancel()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            delayed.release(bytes)
            transport.send(bytes, to: destination)
        }
        return nil
    }
    _ = try b.trainTurn(tokens: randomTokens(tinyConfig(), batch: 2, seed: 1), turn: 1)
    session.transport.intercept = nil

    #expect(a.expertSteps == 1)
    let metrics = try a.trainTurn(tokens: randomTokens(tinyConfig(), batch: 2, seed: 2), turn: 2)
    #expect(metrics.globalStep == 2)
    #expect(a.expertSteps == 2)
    #expect(b.expertSteps == 2)
}

/// Step requests that a test held back and has since let through.
private final class DelayedSteps: @unchecked Sendable {
    private let lock = NSLock()
    private var passed: Set<[UInt8]> = []

    func release(_ bytes: [UInt8]) { _ = lock.withLock { passed.insert(bytes) } }

    func released(_ bytes: [UInt8]) -> Bool { lock.withLock { passed.contains(bytes) } }
}

/// Rewrites one metadata entry of a safetensors file in place.
private func editMetadata(_ path: String, key: String, value: String) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    var header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
    var metadata = header["__metadata__"] as! [String: String]
    metadata[key] = value
    header["__metadata__"] = metadata
    var json = [UInt8](try JSONSerialization.data(withJSONObject: header))
    while json.count % 8 != 0 { json.append(32) }
    let prefix = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) }
    bytes = prefix + json + bytes[(8 + length)...]
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

@Test(arguments: [("last_stepped_turn", "0"), ("expert_steps", "13"), ("backbone_steps", "2"), ("turns_taken", "2"),
                  ("turns_taken", "-1"), ("party_id", "1"), ("session", "2")])
func partyCheckpointRejectsEditedCounters(key: String, value: String) throws {
    let folder = try TemporaryFolder()
    let session = try InProcessSession(partyCount: 2, config: tinyConfig(), options: collaborationOptions())
    let host = try PartyHost(config: PartyConfig(settings: session.parties[0].settings, model: tinyConfig(),
                                                 training: collaborationOptions()))
    try session.transport.connect(host.party)
    try host.loadData(bytes: randomTokens(tinyConfig(), batch: 40, seed: 3), name: "test")
    try host.join()
    _ = try host.trainTurn(1)
    let path = folder.path + "/party.safetensors"
    try host.save(to: path)
    try host.load(from: path)

    try editMetadata(path, key: key, value: value)
    let before = host.party.model.weights.named.map(\.tensor.values)
    #expect(throws: PCMoEError.self) { try host.load(from: path) }
    #expect(host.party.model.weights.named.map(\.tensor.values) == before)
    #expect(host.metrics.turns == 1)
}

@Test func partyCheckpointDetectsFiniteDamage() throws {
    let folder = try TemporaryFolder()
    let party = try Party(settings: PartySettings(id: 0, partyCount: 1, session: 1), config: tinyConfig(),
                          options: collaborationOptions())
    let path = folder.path + "/party.safetensors"
    try PartyCheckpoint.save(party, to: path)
    try PartyCheckpoint.load(into: party, from: path)

    // Flip one bit of the first stored weight: the value stays finite.
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    bytes[8 + length] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let message = errorMessage { try PartyCheckpoint.load(into: party, from: path) }
    #expect(message?.contains("checksum") == true, "\(message ?? "no error")")
}

@Test func joinRejectsDifferentStepCounts() throws {
    let session = try InProcessSession(partyCount: 2, config: tinyConfig(), options: collaborationOptions())
    _ = try session.parties[0].trainTurn(tokens: randomTokens(tinyConfig(), batch: 2, seed: 1), turn: 1)
    let fresh = try Party(settings: PartySettings(id: 1, partyCount: 2, session: 1), config: tinyConfig(),
                          options: collaborationOptions())
    try session.transport.connect(fresh)
    let message = errorMessage { try fresh.join() }
    #expect(message?.contains("have taken 1 steps") == true, "\(message ?? "no error")")
}

@Test func partyConfigFollowsSymbolicLinks() throws {
    let folder = try TemporaryFolder()
    try folder.write("real.json", #"{"party": {"id": 0, "party_count": 2, "session": 3}}"#)
    try FileManager.default.createSymbolicLink(atPath: folder.path + "/link.json", withDestinationPath: "real.json")
    #expect(try PartyConfig.load(path: folder.path + "/link.json").settings.session == 3)
}
