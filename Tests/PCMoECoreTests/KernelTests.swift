import Foundation
import Testing
@testable import PCMoECore

@Test func matmulMatchesNaiveProduct() {
    let x = Tensor([2, 3], values: [1, 2, 3, 4, 5, 6])
    let w = Tensor([3, 2], values: [1, 0, 0, 1, 1, 1])
    let y = Tensor([2, 2])
    matmulForward(x, w, into: y)
    #expect(y.values == [4, 5, 10, 11])
}

@Test func ropeBackwardUndoesForward() {
    let tables = RopeTables(headDim: 4, sequence: 3)
    let x = Tensor([3, 8], values: (0..<24).map { Float($0) * 0.1 - 1 })
    let original = x.values
    rope(x, tables: tables, inverse: false)
    #expect(x.values != original)
    rope(x, tables: tables, inverse: true)
    for (a, b) in zip(x.values, original) { #expect(abs(a - b) < 1e-5) }
}

@Test func ropeLeavesPositionZeroUnchanged() {
    let tables = RopeTables(headDim: 4, sequence: 2)
    let x = Tensor([2, 4], values: [1, 2, 3, 4, 1, 2, 3, 4])
    rope(x, tables: tables, inverse: false)
    #expect(Array(x.values[0..<4]) == [1, 2, 3, 4])
    // Position 1, pair (1, 3) rotates by angle 1: (cos 1 − 3 sin 1, 3 cos 1 + sin 1).
    #expect(abs(x[4] - Float(cos(1.0) - 3 * sin(1.0))) < 1e-6)
    #expect(abs(x[6] - Float(3 * cos(1.0) + sin(1.0))) < 1e-6)
}

@Test func softmaxRowsSumToOne() {
    let x = Tensor([2, 3], values: [1, 2, 3, 1000, 1000, 1000])
    softmaxForward(x)
    #expect(abs(x.values[0..<3].reduce(0, +) - 1) < 1e-6)
    #expect(x.values[3..<6].allSatisfy { abs($0 - 1.0 / 3) < 1e-6 })
}

@Test func attentionIsCausal() {
    // The output at position 0 must not change when later values change.
    let (t, d) = (4, 4)
    let q = Tensor([t, d], values: (0..<16).map { Float($0 % 5) * 0.3 })
    let k = Tensor([t, d], values: (0..<16).map { Float($0 % 3) * 0.2 })
    let v = Tensor([t, d], values: (0..<16).map { Float($0) })
    let probs = Tensor([1, 2, t, t]), o1 = Tensor([t, d]), o2 = Tensor([t, d])
    attentionForward(q: q, k: k, v: v, heads: 2, sequence: t, probs: probs, into: o1)
    for i in d..<(t * d) { v[i] = -7 }
    attentionForward(q: q, k: k, v: v, heads: 2, sequence: t, probs: probs, into: o2)
    #expect(Array(o1.values[0..<d]) == Array(o2.values[0..<d]))
    #expect(Array(o1.values[0..<d]) == Array(v.values[0..<d]))
}

@Test func crossEntropyOfUniformLogits() {
    let logits = Tensor([2, 256])
    let grad = Tensor([2, 256])
    let loss = crossEntropy(logits: logits, targets: [0, 255], dlogits: grad)
    #expect(abs(loss - log(256.0)) < 1e-6)
    #expect(abs(grad[0] - (1.0 / 256 - 1) / 2) < 1e-6)
    #expect(abs(grad[1] - 1.0 / 256 / 2) < 1e-7)
}

@Test func scheduleWarmsUpThenDecays() {
    let s = LearningRateSchedule(peak: 1e-3, totalSteps: 100, warmupFraction: 0.05, minRatio: 0.1)
    #expect(s.warmupSteps == 5)
    #expect(abs(s.rate(step: 1) - 2e-4) < 1e-12)
    #expect(abs(s.rate(step: 5) - 1e-3) < 1e-12)
    #expect(abs(s.rate(step: 100) - 1e-4) < 1e-12)
    #expect(s.rate(step: 50) < s.rate(step: 20))
}

@Test func clippingScalesToMaxNorm() throws {
    let model = try MoEModel(config: tinyConfig(), seed: 1)
    model.gradients.tokEmb[0] = 3
    model.gradients.lmHead[0] = 4
    let before = clipGradients(model.gradients, maxNorm: 1)
    #expect(abs(before - 5) < 1e-9)
    #expect(abs(globalNorm(model.gradients) - 1) < 1e-6)
}

@Test func productBitsIgnoreThreadCount() {
    // 300 rows split over 1, 2 or 3 threads must give the same bits.
    let (m, n, k) = (300, 200, 500)
    let a = Tensor([m, k], values: (0..<(m * k)).map { Float(($0 * 7919) % 1000) / 997 - 0.5 })
    let w = Tensor([k, n], values: (0..<(k * n)).map { Float(($0 * 104729) % 1000) / 991 - 0.5 })
    let saved = mathThreads
    defer { setMathThreads(saved) }
    var results: [[Float]] = []
    for threads in [1, 2, 3] {
        setMathThreads(threads)
        let y = Tensor([m, n])
        matmulForward(a, w, into: y)
        results.append(y.values)
    }
    let oneEqualsTwo = results[0] == results[1], oneEqualsThree = results[0] == results[2]
    #expect(oneEqualsTwo)
    #expect(oneEqualsThree)
}
