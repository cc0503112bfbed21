import Foundation
import Testing

@testable import PCMoECore

@Test func exportIsRefusedByDefaultAndWritesNothing() throws {
    let (session, _) = try trainedSession()
    let folder = temporaryFolder()
    let path = folder + "/model.safetensors"
    let message = errorMessage { try session.parties[1].exportModel(to: path) }
    #expect(message?.contains("party 0 refuses to send its experts to party 1: it exports to no party") == true)
    #expect(message?.contains("party 2 refuses to send its experts to party 1") == true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
}

@Test func exportNamesOnlyTheOwnerThatRefuses() throws {
    let (session, _) = try trainedSession()
    try session.parties[0].allowExport(to: [1])
    try session.parties[2].allowExport(to: [0])
    let folder = temporaryFolder()
    let message = errorMessage { try session.parties[1].exportModel(to: folder + "/model.safetensors") }
    #expect(message?.contains("party 2 refuses to send its experts to party 1: it exports only to party 0") == true)
    #expect(message?.contains("party 0 refuses") == false)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
}

@Test func exportedModelEvaluatesWithoutPeers() throws {
    let (session, reference) = try trainedSession()
    try session.parties[0].allowExport(to: [1])
    try session.parties[2].allowExport(to: [1, 0])
    let path = temporaryFolder() + "/model.safetensors"
    try session.parties[1].exportModel(to: path)

    let (alone, header) = try Checkpoint.loadModel(from: path)
    #expect(header.step == session.parties[1].expertSteps)
    let byName = Dictionary(uniqueKeysWithValues: alone.weights.named.map { ($0.name, $0.tensor) })
    for (name, tensor) in reference.weights.named {
        #expect(byName[name].map { Array($0.values) } == Array(tensor.values), "\(name)")
    }
    let text = randomTokens(tinyConfig(experts: 6), batch: 4, seed: 31)
    let together = try session.parties[1].evaluate(text[...])
    let exported = try alone.evaluate(text[...], batch: 2)
    #expect(abs(together.loss - exported.loss) <= 1e-5 * together.loss)
}

@Test func exportPolicyRejectsUnknownParties() throws {
    let (session, _) = try trainedSession()
    try session.parties[0].allowExport(to: [2])
    let message = errorMessage { try session.parties[0].allowExport(to: [1, 3]) }
    #expect(message?.contains("names party 3") == true)
    #expect(session.parties[0].exportAllowed == [2])
}

@Test func restoredPartiesScoreLikeTheOriginals() throws {
    let (session, _) = try trainedSession()
    let folder = temporaryFolder()
    for party in session.parties {
        try PartyCheckpoint.save(party, to: folder + "/party-\(party.id).safetensors")
    }
    let restored = try (0..<3).map { try Party.restored(from: folder + "/party-\($0).safetensors") }
    let transport = InProcessTransport(partyCount: 3)
    for party in restored { try transport.connect(party) }
    try restored[2].join()

    let text = randomTokens(tinyConfig(experts: 6), batch: 4, seed: 12)
    let before = try session.parties[2].evaluate(text[...])
    let after = try restored[2].evaluate(text[...])
    #expect(after.loss == before.loss)
    #expect(restored[2].expertSteps == session.parties[2].expertSteps)

    let info = try PartyCheckpoint.info(path: folder + "/party-1.safetensors")
    #expect((info.partyID, info.partyCount, info.session) == (1, 3, session.parties[1].settings.session))
    #expect(info.config == session.parties[1].config)
}

@Test func newestSessionCheckpointIsTheLargestTurnCount() throws {
    let folder = temporaryFolder()
    for name in ["turns-00000009.safetensors", "turns-00000012.safetensors", "turns-00000100.safetensors.tmp.5", "notes",
                 "turns-99.safetensors", "turns-+0000099.safetensors", "turns-000000031.safetensors"] {
        FileManager.default.createFile(atPath: folder + "/" + name, contents: Data())
    }
    #expect(try PartyCheckpoint.newest(inFolder: folder) == folder + "/turns-00000012.safetensors")
    #expect(SessionCheckpoints.turns(ofName: "turns-123456789.safetensors") == 123_456_789)
    #expect(SessionCheckpoints.turns(ofName: "turns-0123456789.safetensors") == nil)
    let empty = temporaryFolder()
    #expect(errorMessage { _ = try PartyCheckpoint.newest(inFolder: empty) }?.contains("contains no session checkpoint") == true)
}
