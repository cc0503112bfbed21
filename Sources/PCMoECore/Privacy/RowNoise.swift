import Foundation

/// A defense for the rows a party sends to other owners: each row's norm is
/// clipped, then Gaussian noise is added to every value.
///
/// Rows routed to the party's own experts stay exact. The owner computes
/// its experts on the noisy rows, so the gradients it returns are taken at
/// the noisy rows. The requester uses them as the gradients of its exact rows. The noise costs accuracy and hides the rows: `pcmoe attack`
/// measures both.
public struct RowNoise: Equatable, Sendable, Codable {
    /// The largest L2 norm a sent row keeps; a longer row is scaled down to it.
    /// Post-RMSNorm rows have a norm near sqrt(d_model) times the norm
    /// weights' scale.
    public var clipNorm: Double
    /// The standard deviation of the noise added to each value, at most
    /// ``maxSigma``.
    public var sigma: Double
    /// Seeds the noise; nil draws a seed from the system's random generator,
    /// so that a peer cannot regenerate the noise.
    public var seed: UInt64?

    /// Noise of `sigma` per value after clipping every row to `clipNorm`.
    public init(clipNorm: Double, sigma: Double, seed: UInt64? = nil) {
        self.clipNorm = clipNorm
        self.sigma = sigma
        self.seed = seed
    }

    /// Returns the row noise of a configuration that gives the clip norm and
    /// sigma as two numbers, where both at 0 turn row noise off and a clip
    /// norm with sigma 0 clips without noise. The seed is drawn at random.
    /// `clipName` and `sigmaName` are the names messages use for the values.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a negative or
    ///   non-finite value, or a sigma above 0 with a clip norm of 0.
    public static func fromValues(clipNorm: Double, sigma: Double, clipName: String, sigmaName: String) throws -> RowNoise? {
        guard clipNorm.isFinite, clipNorm >= 0 else {
            throw PCMoEError.invalidArgument("\(clipName) is \(clipNorm); give a finite norm above 0, or 0 to send rows unclipped.")
        }
        guard sigma.isFinite, sigma >= 0, sigma <= maxSigma else {
            throw PCMoEError.invalidArgument("\(sigmaName) is \(sigma); give a standard deviation from 0 to \(Int(maxSigma)).")
        }
        if clipNorm == 0 {
            guard sigma == 0 else {
                throw PCMoEError.invalidArgument("\(sigmaName) is \(sigma) but \(clipName) is 0; noise needs a clip norm "
                                                     + "above 0, such as sqrt(d_model), so set \(clipName).")
            }
            return nil
        }
        return RowNoise(clipNorm: clipNorm, sigma: sigma)
    }

    /// The largest noise accepted. Rows after RMSNorm have values near 1, so
    /// noise of 4 already hides most of them, and far larger noise overflows
    /// the f16 wire type (65504 at most) and breaks every turn.
    public static let maxSigma = 1000.0

    /// Checks the values.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        guard clipNorm.isFinite, clipNorm > 0 else {
            throw PCMoEError.invalidArgument("the row clip norm is \(clipNorm); give a finite value above 0.")
        }
        guard sigma.isFinite, sigma >= 0, sigma <= Self.maxSigma else {
            throw PCMoEError.invalidArgument("the row noise is \(sigma); give a standard deviation from 0 to \(Int(Self.maxSigma)).")
        }
    }
}

/// Applies one party's ``RowNoise`` to the rows it sends, from one stream
/// of random numbers.
final class RowNoiseSource: @unchecked Sendable {
    let noise: RowNoise
    private let lock = NSLock()
    private var random: SplitMix64

    init(_ noise: RowNoise) {
        self.noise = noise
        random = SplitMix64(seed: noise.seed ?? UInt64.random(in: 0...UInt64.max), label: "row noise")
    }

    /// Returns a clipped, noisy copy of `rows` ([m, d]).
    func apply(to rows: Tensor, ledger: MemoryLedger?) -> Tensor {
        let out = Tensor(rows.shape, ledger: ledger)
        let (m, d) = (rows.rows, rows.columns)
        lock.withLock {
            for r in 0..<m {
                let row = rows.data + r * d
                var squares = 0.0
                for j in 0..<d { squares += Double(row[j]) * Double(row[j]) }
                let norm = squares.squareRoot()
                let scale = norm > noise.clipNorm ? noise.clipNorm / norm : 1
                for j in 0..<d {
                    let value = Double(row[j]) * scale + random.nextNormal(std: noise.sigma)
                    out.data[r * d + j] = Float(value)
                }
            }
        }
        return out
    }
}
