import Foundation
@testable import PCMoECore

/// A tiny configuration for exact checks: d=8, 2 heads of 4, 2 layers, 4 experts, top-2.
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

/// A fresh, empty folder under the system temporary folder.
func temporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "pcmoe-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
