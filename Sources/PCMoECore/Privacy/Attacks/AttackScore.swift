import Foundation

/// The accuracy of the bytes an attack recovered, next to the accuracy of
/// always guessing the most frequent true byte.
public struct AttackScore: Equatable, Sendable, CustomStringConvertible {
    /// The share of rows whose predicted byte equals the true byte, or 0 when there are no rows.
    public let accuracy: Double
    /// The share of the most frequent byte among the true bytes: the accuracy
    /// of always guessing that byte, given the text's byte statistics.
    public let baseline: Double
    /// The number of rows scored.
    public let count: Int

    /// Scores `predicted` against `truth`.
    /// - Precondition: both have the same count.
    public init(predicted: [UInt8], truth: [UInt8]) {
        accuracy = Self.accuracy(predicted: predicted, truth: truth)
        baseline = Self.mostFrequentByteShare(truth)
        count = truth.count
    }

    /// Returns the share of positions where `predicted` equals `truth`, or 0 when both are empty.
    /// - Precondition: both have the same count.
    public static func accuracy(predicted: [UInt8], truth: [UInt8]) -> Double {
        precondition(predicted.count == truth.count, "attack score: \(predicted.count) predictions for \(truth.count) bytes")
        guard !truth.isEmpty else { return 0 }
        let correct = zip(predicted, truth).filter { $0 == $1 }.count
        return Double(correct) / Double(truth.count)
    }

    /// Returns the share of the most frequent byte in `bytes`, or 0 when it is empty.
    public static func mostFrequentByteShare(_ bytes: [UInt8]) -> Double {
        byteFrequencies(of: bytes).max() ?? 0
    }

    /// The accuracy, baseline and count, for example "accuracy 0.812 (baseline 0.173, 5000 rows)".
    public var description: String {
        func format(_ value: Double) -> String { String(format: "%.3f", value) }
        return "accuracy \(format(accuracy)) (baseline \(format(baseline)), \(count) rows)"
    }
}
