import Foundation
import Testing

/// Writes three small English-like corpora into `folder` and returns their paths.
private func attackCorpora(in folder: String) throws -> [String] {
    let texts = ["the cat sat on the mat by the door. ", "a fox ran over the hill at dawn. ", "rain fell on the old roof. "]
    return try texts.enumerated().map { i, text in
        let path = folder + "/corpus\(i).txt"
        try String(repeating: text, count: 60).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

private let tinyAttack = ["--d-model", "16", "--heads", "2", "--layers", "2", "--experts", "6", "--expert-hidden", "16",
                          "--seq-len", "16", "--batch", "2", "--rounds", "3", "--eval-windows", "2",
                          "--clusters", "8", "--inversion-rows", "60", "--inversion-epochs", "2"]

@Test func attackCommandRunsEachDefenseAndWritesReports() throws {
    let folder = try TemporaryFolder()
    let data = try attackCorpora(in: folder.path).flatMap { ["--data", $0] }
    let result = try runPCMoE(["attack"] + data + tinyAttack + ["--noise", "0,2", "--own-expert-layers", "1", "--out", "out"],
                              in: folder.path)
    #expect(result.status == 0, "\(result.output)")
    #expect(result.output.contains("| | shared backbone | shared backbone, noise 2 (clip 4) | shared backbone, own experts in 1 layer "
                                   + "| shared backbone, noise 2 (clip 4), own experts in 1 layer |"))
    #expect(result.output.contains("| white-box L1 |"))

    let json = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/out/attack.json"))
    let report = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    let runs = try #require(report["runs"] as? [[String: Any]])
    #expect(runs.count == 4)
    let observed = runs.compactMap { $0["observedPerLayer"] as? [Int] }
    #expect(observed.count == 4)
    #expect(observed.first?.first ?? 0 > 0)
    // Runs 3 and 4 route the first layer to the parties' own experts.
    #expect(observed.dropFirst(2).allSatisfy { $0.first == 0 })

    let again = try runPCMoE(["attack"] + data + tinyAttack + ["--out", "out"], in: folder.path)
    #expect(again.status == 1, "\(again.output)")
    #expect(again.output.contains("--overwrite"))
}

@Test func attackCommandRejectsBadOptionsBeforeTraining() throws {
    let folder = try TemporaryFolder()
    let data = try attackCorpora(in: folder.path).flatMap { ["--data", $0] }
    let same = try runPCMoE(["attack"] + data + ["--attacker", "0", "--victim", "0"], in: folder.path)
    #expect(same.status != 0)
    #expect(same.output.contains("both attacker and victim"), "\(same.output)")
    let noise = try runPCMoE(["attack"] + data + ["--noise", "0.5,loud"], in: folder.path)
    #expect(noise.status == 2)
    #expect(noise.output.contains("'loud'"), "\(noise.output)")
    let layers = try runPCMoE(["attack"] + data + ["--own-expert-layers", "3"], in: folder.path)
    #expect(layers.status == 2)
    #expect(layers.output.contains("'3'"), "\(layers.output)")
    let backbones = try runPCMoE(["attack"] + data + ["--backbones", "public"], in: folder.path)
    #expect(backbones.status == 2)
    #expect(backbones.output.contains("'public'"), "\(backbones.output)")
    let steps = try runPCMoE(["attack"] + data + ["--steps", "5"], in: folder.path)
    #expect(steps.status == 2)
    #expect(steps.output.contains("--rounds"), "\(steps.output)")
    let empty = try runPCMoE(["attack"] + data + ["--noise", "1,,2"], in: folder.path)
    #expect(empty.status == 2)
    #expect(empty.output.contains("an empty item"), "\(empty.output)")
    let clip = try runPCMoE(["attack"] + data + ["--row-clip", "3"], in: folder.path)
    #expect(clip.status == 2)
    #expect(clip.output.contains("--row-clip sets the clip of the --noise runs"), "\(clip.output)")
    let rows = try runPCMoE(["attack"] + data + ["--inversion-rows", "9223372036854775807"], in: folder.path)
    #expect(rows.status == 2)
    #expect(rows.output.contains("--inversion-rows"), "\(rows.output)")
    // With four experts, parties 1 and 2 own one each: the third run could
    // not start, so nothing trains at all.
    let fourExperts = tinyAttack.map { $0 == "6" ? "4" : $0 }
    let few = try runPCMoE(["attack"] + data + fourExperts + ["--noise", "1", "--own-expert-layers", "1"],
                           in: folder.path)
    #expect(few.status == 1)
    #expect(few.output.contains("party 1 owns 1 of 4"), "\(few.output)")
    #expect(!few.output.contains("round"), "\(few.output)")
    #expect(!FileManager.default.fileExists(atPath: folder.path + "/out"))
}
