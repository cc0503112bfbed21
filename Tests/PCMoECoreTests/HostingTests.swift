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
    #expect(config.model == ModelConfig())
    #expect(config.training == TrainingOptions())
    #expect(config.data.isEmpty)
}

@Test func partyConfigReadsEveryKey() throws {
    let json = """
        {"party": {"id": 0, "party_count": 3, "session": 4, "wire_type": "f16", "call_timeout": 2.5,
                   "backbone_seed": 18446744073709551615},
         "model": {"d_model": 32, "n_heads": 2, "n_layers": 3, "n_experts": 5, "top_k": 1,
                   "expert_hidden": 40, "seq_len": 12},
         "training": {"steps": 7, "batch": 3, "learning_rate": 0.01, "warmup_fraction": 0.5,
                      "min_lr_ratio": 0.2, "weight_decay": 0.0, "clip_norm": 2.0, "seed": 11},
         "data": ["/a", "b"]}
        """
    let config = try PartyConfig.parse(Data(json.utf8), name: "t")
    #expect(config.settings.wireType == .f16)
    #expect(config.settings.callTimeout == 2.5)
    #expect(config.settings.backboneSeed == UInt64.max)
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

@Test func logSinkReceivesRefusals() throws {
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var all: [(LogLevel, String)] = []
    }
    let lines = Lines()
    let session = try InProcessSession(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), session: 4242)
    Log.set(level: .warning) { level, text in lines.lock.withLock { lines.all.append((level, text)) } }
    _ = session.parties[0].receive([0x01])
    Log.set(level: .warning, sink: nil)
    let mine = lines.lock.withLock { lines.all.filter { $0.1.contains("party 0 refused") } }
    #expect(mine.contains { $0.0 == .warning })
    #expect(!Log.enabled(.error))
}
