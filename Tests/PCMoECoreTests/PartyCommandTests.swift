import Foundation
import Testing

@testable import PCMoECore

/// A folder with `text.txt`, three key pairs and a deployment file of
/// three parties on free loopback ports.
private func deploymentFolder() throws -> String {
    let folder = commandFolder()
    let network = try LoopbackNetwork(partyCount: 3, session: 11)
    network.stop()
    for id in 0..<3 { try network.keys[id].write(prefix: folder + "/party\(id)") }
    let parties = network.deployment.members.map {
        "{\"id\": \($0.id), \"endpoint\": \"\($0.endpoint)\", \"public_key_file\": \"party\($0.id).pub\"}"
    }
    let json = "{\"session\": 11, \"parties\": [" + parties.joined(separator: ", ") + "]}"
    #expect(FileManager.default.createFile(atPath: folder + "/deployment.json", contents: Data(json.utf8)))
    return folder
}

@Test(arguments: [
    (["--id", "0", "--key", "party0.key"], "--deployment is required"),
    (["--deployment", "deployment.json", "--key", "party0.key", "--data", "text.txt"], "--id is required"),
    (["--deployment", "deployment.json", "--id", "0", "--data", "text.txt"], "--key is required"),
    (["--deployment", "deployment.json", "--in-process", "--id", "0", "--data", "text.txt"], "give no --id"),
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt", "--wire", "f8"],
     "--wire expects f32, bf16 or f16"),
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt",
      "--backbone-seed", "1", "--backbone-seed", "2"], "--backbone-seed was given 2 times"),
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt",
      "--checkpoint-every", "0"], "--checkpoint-every expects an integer at least 1"),
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt",
      "--retries", "101"], "--retries expects an integer from 0 to 100"),
])
func partyCommandRejectsUsage(arguments: [String], expected: String) throws {
    let folder = try deploymentFolder()
    let result = try runPCMoE(["party"] + arguments, in: folder)
    #expect(result.status == 2)
    #expect(result.output.contains(expected), "\(result.output)")
}

@Test func partyCommandRejectsAKeyReadableByOthers() throws {
    let folder = try deploymentFolder()
    #expect(chmod(folder + "/party0.key", 0o644) == 0)
    let result = try runPCMoE(["party", "--deployment", "deployment.json", "--id", "0", "--key", "party0.key",
                               "--data", "text.txt"], in: folder)
    #expect(result.status == 1)
    #expect(result.output.contains("party0.key"), "\(result.output)")
}

@Test func partyCommandRejectsTheWrongKeyForItsId() throws {
    let folder = try deploymentFolder()
    let result = try runPCMoE(["party", "--deployment", "deployment.json", "--id", "1", "--key", "party0.key",
                               "--data", "text.txt"], in: folder)
    #expect(result.status == 1)
    #expect(result.output.contains("does not list party 1 with this key pair"), "\(result.output)")
}

@Test func partyInProcessNeedsOneTextPerParty() throws {
    let folder = try deploymentFolder()
    let result = try runPCMoE(["party", "--deployment", "deployment.json", "--in-process", "--data", "text.txt"], in: folder)
    #expect(result.status == 2)
    #expect(result.output.contains("one --data per party of the deployment: 3, got 1"), "\(result.output)")
}
