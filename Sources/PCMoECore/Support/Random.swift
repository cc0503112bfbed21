import Foundation

/// SplitMix64: a small, fast generator whose whole state is one UInt64, so a
/// run is fixed by its seed on every platform.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator started from `seed`.
    public init(seed: UInt64) { state = seed }

    /// A generator for one named purpose under a seed: the same (seed, label)
    /// always gives the same stream, and different labels give unrelated ones.
    public init(seed: UInt64, label: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        for byte in label.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        var mixer = SplitMix64(seed: seed ^ hash)
        state = mixer.next()
    }

    /// Returns the next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Returns a uniform Double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Returns a normal sample (Box–Muller, one value per two uniforms).
    public mutating func nextNormal(mean: Double = 0, std: Double = 1) -> Double {
        let u1 = 1 - nextUnit()  // in (0, 1], so the log is finite
        let u2 = nextUnit()
        return mean + std * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
