import Foundation

/// The settings that draw the next byte from the model's logits.
public struct SamplingOptions: Equatable, Sendable {
    /// Divides the logits before the softmax; 0 picks the most likely byte
    /// (greedy decoding, the lowest byte value on a tie).
    public var temperature = 1.0
    /// Keeps only the k most likely bytes; 0 keeps all 256.
    public var topK = 0
    /// Keeps the smallest set of most likely bytes whose probabilities sum
    /// to at least p; 1 keeps all.
    public var topP = 1.0
    /// Seeds the draws, so the same seed gives the same bytes.
    public var seed: UInt64 = 1

    /// Options with the defaults above.
    public init() {}

    /// Checks the values.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else {
            throw PCMoEError.invalidArgument("the temperature is \(temperature); give 0 (greedy) to 100.")
        }
        guard (0...ModelConfig.vocabulary).contains(topK) else {
            throw PCMoEError.invalidArgument("top-k is \(topK); give 0 (all bytes) to \(ModelConfig.vocabulary).")
        }
        guard topP.isFinite, topP > 0, topP <= 1 else {
            throw PCMoEError.invalidArgument("top-p is \(topP); give a value above 0 and at most 1.")
        }
    }
}

/// Draws bytes from logit rows with ``SamplingOptions``; one per generation.
struct ByteSampler {
    let options: SamplingOptions
    private var random: SplitMix64

    init(options: SamplingOptions) {
        self.options = options
        random = SplitMix64(seed: options.seed)
    }

    /// Picks the next byte from one row of 256 logits.
    mutating func next(_ logits: ArraySlice<Float>) -> UInt8 {
        let values = Array(logits)
        if options.temperature == 0 {
            var best = 0
            for i in 1..<values.count where values[i] > values[best] { best = i }
            return UInt8(best)
        }
        let candidates = kept(values)
        let top = candidates.map { Double(values[$0]) }.max()!
        let weights = candidates.map { exp((Double(values[$0]) - top) / options.temperature) }
        let total = weights.reduce(0, +)
        let draw = Double(random.next() >> 11) / Double(1 << 53) * total
        var sum = 0.0
        for (index, weight) in zip(candidates, weights) {
            sum += weight
            if draw < sum { return UInt8(index) }
        }
        return UInt8(candidates.last!)
    }

    /// The byte values that survive top-k and top-p, most likely first.
    private func kept(_ values: [Float]) -> [Int] {
        var order = Array(0..<values.count).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        if options.topK > 0 { order = Array(order.prefix(options.topK)) }
        guard options.topP < 1 else { return order }
        let top = Double(values[order[0]])
        let weights = order.map { exp((Double(values[$0]) - top) / options.temperature) }
        let total = weights.reduce(0, +)
        var sum = 0.0
        for (count, weight) in weights.enumerated() {
            sum += weight
            if sum >= options.topP * total { return Array(order.prefix(count + 1)) }
        }
        return order
    }
}
