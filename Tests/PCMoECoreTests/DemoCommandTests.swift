import Foundation
import Testing

/// Writes three small corpora into `folder` and returns their paths.
private func demoCorpora(in folder: String) throws -> [String] {
    let texts = ["the cat sat on the mat. ", "0123 4567 89ab cdef; ", "A long way down the river, "]
    return try texts.enumerated().map { i, text in
        let path = folder + "/corpus\(i).txt"
        try String(repeating: text, count: 60).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

private let tinyDemo = ["--d-model", "16", "--heads", "2", "--layers", "1", "--experts", "3", "--expert-hidden", "16",
                        "--seq-len", "16", "--batch", "2", "--rounds", "3", "--eval-windows", "2"]

@Test func demoWritesResultsForChosenModes() throws {
    let folder = try TemporaryFolder()
    let data = try demoCorpora(in: folder.path).flatMap { ["--data", $0] }
    let result = try runPCMoE(["demo"] + data + tinyDemo + ["--modes", "pcmoe,local-full", "--out", "out"],
                              in: folder.path)
    #expect(result.status == 0, "\(result.output)")
    #expect(result.output.contains("validation bits per byte"))
    let json = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/out/results.json"))
    let report = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    let modes = (report["modes"] as? [[String: Any]])?.compactMap { $0["mode"] as? String }
    #expect(modes == ["pcmoe", "local-full"])
    let svg = try String(contentsOfFile: folder.path + "/out/loss-curves.svg", encoding: .utf8)
    #expect(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"))

    // A second run refuses to replace the results without --overwrite.
    let again = try runPCMoE(["demo"] + data + tinyDemo + ["--modes", "pcmoe", "--out", "out"], in: folder.path)
    #expect(again.status == 1, "\(again.output)")
    #expect(again.output.contains("--overwrite"))
}

@Test func demoRejectsBadOptionsBeforeTraining() throws {
    let folder = try TemporaryFolder()
    let data = try demoCorpora(in: folder.path).flatMap { ["--data", $0] }
    let typo = try runPCMoE(["demo"] + data + ["--modes", "pcmoe,centralised"], in: folder.path)
    #expect(typo.status == 2, "\(typo.output)")
    #expect(typo.output.contains("'centralised'"))
    let steps = try runPCMoE(["demo"] + data + ["--steps", "5"], in: folder.path)
    #expect(steps.status == 2, "\(steps.output)")
    #expect(steps.output.contains("--rounds"))
    try "x".write(toFile: folder.path + "/file", atomically: true, encoding: .utf8)
    let outFile = try runPCMoE(["demo"] + data + tinyDemo + ["--out", "file"], in: folder.path)
    #expect(outFile.status == 1, "\(outFile.output)")
    #expect(outFile.output.contains("is a file"))
    let single = try runPCMoE(["demo", "--data", data[1]] + tinyDemo + ["--out", "one"], in: folder.path)
    #expect(single.status == 2, "\(single.output)")
    #expect(single.output.contains("once per party"))
}
