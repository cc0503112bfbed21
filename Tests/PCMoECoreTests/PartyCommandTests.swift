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
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt",
      "--row-noise", "-1"], "--row-noise expects a standard deviation from 0 to 1000, got '-1.0'"),
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt",
      "--row-clip", "0"], "--row-clip expects a norm above 0, got '0.0'"),
    (["--deployment", "deployment.json", "--id", "0", "--key", "party0.key", "--data", "text.txt",
      "--own-expert-layers", "5"], "--own-expert-layers expects an integer from 0 to 4"),
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

@Test func partyHelpListsPrivacyOptions() throws {
    let result = try runPCMoE(["party", "--help"], in: commandFolder())
    #expect(result.status == 0)
    for option in ["--row-noise SIGMA", "--row-clip X", "--own-expert-layers N"] {
        #expect(result.output.contains(option), "\(option) is missing from the help")
    }
}

/// Runs a tiny three-party `pcmoe party --in-process` with `extra` options
/// and checkpoints in `name`, and returns its turn losses and total bytes sent.
private func inProcessRun(in folder: String, name: String, experts: Int = 6,
                          _ extra: [String]) throws -> (status: Int32, losses: [String], bytesSent: Int, output: String) {
    let arguments = ["party", "--deployment", "deployment.json", "--in-process", "--data", "text.txt", "--data", "text.txt",
                     "--data", "text.txt", "--checkpoints", name, "--backbone-seed", "1", "--backbone-seed", "2",
                     "--backbone-seed", "3", "--d-model", "16", "--heads", "2", "--layers", "1", "--experts", "\(experts)",
                     "--expert-hidden", "16", "--seq-len", "16", "--batch", "2", "--steps", "3", "--eval-windows", "2",
                     "--threads", "1"]
    let result = try runPCMoE(arguments + extra, in: folder)
    var losses: [String] = [], bytesSent = 0
    for line in result.output.split(separator: "\n") {
        let words = line.split(separator: " ")
        if words.count > 5, words[2] == "turn", words[4] == "loss" { losses.append(String(words[5])) }
        if let field = words.first(where: { $0.hasPrefix("bytes_sent=") }) {
            bytesSent += Int(field.dropFirst("bytes_sent=".count)) ?? 0
        }
    }
    return (result.status, losses, bytesSent, result.output)
}

@Test func partyInProcessAppliesPrivacyOptions() throws {
    let folder = try deploymentFolder()
    let exact = try inProcessRun(in: folder, name: "exact", [])
    let wideClip = try inProcessRun(in: folder, name: "wide-clip", ["--row-clip", "1e6"])
    let noisy = try inProcessRun(in: folder, name: "noisy", ["--row-noise", "2"])
    let own = try inProcessRun(in: folder, name: "own", ["--own-expert-layers", "1"])
    for run in [exact, wideClip, noisy, own] {
        #expect(run.status == 0, "\(run.output)")
        #expect(run.losses.count == 3, "\(run.output)")
    }

    // A clip above every row's norm with no noise leaves the rows exact, so
    // the losses equal those of the run without options.
    #expect(wideClip.losses == exact.losses)
    // Noise on the sent rows changes what the other owners' experts return.
    #expect(noisy.losses != exact.losses)
    // With their only layer routed to their own experts, the parties send
    // no rows, only the session's own messages.
    #expect(own.losses != exact.losses)
    #expect(own.bytesSent * 4 < exact.bytesSent, "own \(own.bytesSent), exact \(exact.bytesSent)")
}

@Test func partyOwnExpertLayersNeedTopKOwnedExperts() throws {
    let folder = try deploymentFolder()
    // With four experts, parties 1 and 2 own one each, fewer than top-2.
    let run = try inProcessRun(in: folder, name: "few", experts: 4, ["--own-expert-layers", "1"])
    #expect(run.status == 1)
    #expect(run.output.contains("--own-expert-layers is 1, but party 1 owns 1 of 4 experts"), "\(run.output)")
}

@Test func scoreTakesTheOwnExpertLayersThePartyTrainedWith() throws {
    let folder = try deploymentFolder()
    let own = try inProcessRun(in: folder, name: "own", ["--own-expert-layers", "1"])
    #expect(own.status == 0, "\(own.output)")
    let line = own.output.split(separator: "\n").first { $0.hasPrefix("party 0: result") } ?? ""
    let trained = line.split(separator: " ").first { $0.hasPrefix("val_loss=") }.flatMap { Double($0.dropFirst(9)) }

    let score = { (extra: [String]) throws -> Double? in
        let result = try runPCMoE(["score", "--in-process", "--checkpoints", "own", "--data", "text.txt", "--split", "validation",
                                   "--max-windows", "2", "--json", "--threads", "1"] + extra, in: folder)
        #expect(result.status == 0, "\(result.output)")
        let json = result.output.split(separator: "\n").last.map { Data($0.utf8) } ?? Data()
        return (try? JSONSerialization.jsonObject(with: json) as? [String: Any])?["loss"] as? Double
    }
    let withOption = try #require(try score(["--own-expert-layers", "1"]))
    let without = try #require(try score([]))
    let expected = try #require(trained)
    // The party's own evaluation at the end of training routed like it trained.
    #expect(abs(withOption - expected) < 1e-9, "score \(withOption), training evaluation \(expected)")
    #expect(abs(without - expected) > 1e-7, "score without the option \(without) equals \(expected)")

    let model = try runPCMoE(["score", "--model", "x.safetensors", "--data", "text.txt", "--row-noise", "1"], in: folder)
    #expect(model.status == 2)
    #expect(model.output.contains("--row-noise applies to a party's model"), "\(model.output)")
}

@Test func rowNoiseAbove1000IsRejectedByName() throws {
    let folder = try deploymentFolder()
    let run = try inProcessRun(in: folder, name: "loud", ["--row-noise", "1e300"])
    #expect(run.status == 2)
    #expect(run.output.contains("--row-noise expects a standard deviation from 0 to 1000"), "\(run.output)")
}

@Test func scoreNamesThePrivacySettingsItUses() throws {
    let folder = try deploymentFolder()
    let own = try inProcessRun(in: folder, name: "own", ["--own-expert-layers", "1"])
    #expect(own.status == 0, "\(own.output)")
    #expect(own.output.contains("party 0: runs in this process over the in-process transport; own experts in 1 layer"),
            "\(own.output)")
    let score = try runPCMoE(["score", "--in-process", "--checkpoints", "own", "--data", "text.txt", "--max-windows", "1",
                              "--own-expert-layers", "1", "--row-noise", "0.5"], in: folder)
    #expect(score.status == 0, "\(score.output)")
    #expect(score.output.contains("row noise 0.5 (clip 4), own experts in 1 layer"), "\(score.output)")
    let exact = try runPCMoE(["score", "--in-process", "--checkpoints", "own", "--data", "text.txt", "--max-windows", "1"],
                             in: folder)
    #expect(exact.output.contains("rows sent exact"), "\(exact.output)")
}
