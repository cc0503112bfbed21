import Foundation
@testable import PCMoECore

/// Returns a tiny configuration for exact checks: d=8, 2 heads of 4, 2 layers, 4 experts, top-2.
func tinyConfig(experts: Int = 4, topK: Int = 2) -> ModelConfig {
    ModelConfig(dModel: 8, heads: 2, layers: 2, experts: experts, topK: topK, expertHidden: 6, sequence: 5)
}

/// Bytes drawn from a seeded generator, `batch` sequences of T + 1.
func randomTokens(_ config: ModelConfig, batch: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<(batch * (config.sequence + 1))).map { _ in UInt8(truncatingIfNeeded: rng.next() % 256) }
}

/// Multiplies every matrix by `factor`, so that attention and routing are far
/// from uniform and their gradients are large enough to measure.
func scaleMatrices(_ weights: ModelWeights, by factor: Float) {
    for (name, t) in weights.named where !ModelWeights.isNorm(name) {
        for i in 0..<t.count { t[i] *= factor }
    }
}

/// Creates a fresh, empty folder under the system temporary folder and returns its path.
func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "pcmoe-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fresh folder under the system temporary folder, removed with its content on deinit.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "pcmoe-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `bytes` to `name` inside the folder, creating subfolders, and returns the full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        let parent = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Writes `text` as UTF-8 to `name` inside the folder and returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    /// Creates a folder `name` inside the folder and returns the full path.
    func makeFolder(_ name: String) throws -> String {
        let folder = path + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Returns the names of the entries in the folder, sorted.
    func entryNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}
