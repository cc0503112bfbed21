import Foundation

/// Linear warm-up to the peak rate, then cosine decay to a floor.
///
/// For step s (counted from 1) of S, with W warm-up steps:
/// rate = peak · s / W while s ≤ W, then
/// floor + (peak − floor) · ½(1 + cos(π · (s − W) / (S − W))), floor = minRatio · peak.
public struct LearningRateSchedule: Equatable, Sendable {
    /// The rate at the end of warm-up.
    public var peak: Double
    /// Steps of linear warm-up, W.
    public var warmupSteps: Int
    /// Steps of the whole run, S.
    public var totalSteps: Int
    /// The final rate as a share of the peak.
    public var minRatio: Double

    /// Creates a schedule over `totalSteps` steps whose warm-up is `warmupFraction` of them, rounded.
    public init(peak: Double, totalSteps: Int, warmupFraction: Double = 0.05, minRatio: Double = 0.1) {
        self.peak = peak
        self.totalSteps = totalSteps
        self.warmupSteps = Int((Double(totalSteps) * warmupFraction).rounded())
        self.minRatio = minRatio
    }

    /// Returns the rate for step `step` (1-based). Steps past the end keep the floor.
    public func rate(step: Int) -> Double {
        if step <= warmupSteps { return peak * Double(step) / Double(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(span), 1)
        let floor = minRatio * peak
        return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
    }
}
