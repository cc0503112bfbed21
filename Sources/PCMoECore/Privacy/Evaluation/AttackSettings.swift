/// The attacker, the victim and the attacks' own settings of a ``PrivacyEvaluation``.
public struct AttackSettings: Equatable, Sendable {
    /// The party that records what its experts receive and attacks.
    public var attacker = 1
    /// The party whose bytes the attacker tries to recover.
    public var victim = 0
    /// The k-means clusters of each layer's rows, in each window.
    public var clusters = 256
    /// The number of victim turns whose rows are clustered together, or 0 to
    /// cluster all rows at once. The rows of one byte drift apart as the
    /// backbone trains. The attacker receives each request's turn, so it can
    /// cluster recent rows together.
    public var windowTurns = 0
    /// The share of the victim's observed tokens, drawn at random, whose
    /// bytes the known-plaintext attacks are given, as when a header or
    /// boilerplate the attacker has recurs through the victim's text.
    /// Those tokens are not scored.
    public var knownShare = 0.05
    /// The maximum number of rows per layer the inversion models train on. They are drawn
    /// evenly from every round, so the models see the backbones as they change.
    public var inversionRows = 40_000
    /// The largest ``inversionRows`` accepted.
    public static let maxInversionRows = 100_000_000
    /// The inversion models' settings.
    public var inversion = InversionModelOptions()
    /// Also run the white-box bound, which costs one more forward of the
    /// victim per round.
    public var whiteBox = true
    /// Seeds k-means and the choice of inversion rows.
    public var seed: UInt64 = 1

    /// The defaults: party 1 attacks party 0 with 256 clusters over the whole
    /// run, 5 % known plaintext, 40 000 inversion rows per layer and the
    /// white-box bound.
    public init() {}

    /// Checks the values against the number of parties.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate(partyCount: Int) throws {
        guard (0..<partyCount).contains(attacker), (0..<partyCount).contains(victim) else {
            throw PCMoEError.invalidArgument("the attacker is party \(attacker) and the victim party \(victim); "
                                                 + "with \(partyCount) parties both must be from 0 to \(partyCount - 1).")
        }
        guard attacker != victim else {
            throw PCMoEError.invalidArgument("party \(attacker) is both attacker and victim; pick two different parties.")
        }
        guard (1...65_536).contains(clusters) else {
            throw PCMoEError.invalidArgument("\(clusters) clusters; give 1 to 65536.")
        }
        guard windowTurns >= 0 else {
            throw PCMoEError.invalidArgument("the clustering window is \(windowTurns) turns; give 0 (one window) or more.")
        }
        guard knownShare.isFinite, knownShare >= 0, knownShare < 1 else {
            throw PCMoEError.invalidArgument("the known-plaintext share is \(knownShare); give a share from 0 up to, not including, 1.")
        }
        guard (1...Self.maxInversionRows).contains(inversionRows) else {
            throw PCMoEError.invalidArgument("\(inversionRows) inversion rows; give 1 to \(Self.maxInversionRows).")
        }
    }
}

/// The protections the parties of a ``PrivacyEvaluation`` run with; every
/// party uses the same ones.
public struct DefenseSetting: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Each party's backbone starts from its own seed (the demo's
    /// pcmoe-private mode) instead of the shared one (the pcmoe mode).
    public var privateBackbones = false
    /// Clipping and noise on every row a party sends to another owner.
    /// Party i draws its noise from `seed + i` (`seed` 1 when nil), so runs repeat.
    public var rowNoise: RowNoise?
    /// The first MoE layers in which each party routes only to its own experts.
    public var ownExpertLayers = 0

    /// No protection beyond what PC-MoE itself gives: shared initial backbone, exact rows, free routing.
    public init() {}

    /// For example "shared backbone", or "private backbones, noise 0.5 (clip 11.3), own experts in 1 layer".
    public var description: String {
        var parts = [privateBackbones ? "private backbones" : "shared backbone"]
        if let noise = rowNoise {
            parts.append("noise \(Self.format(noise.sigma)) (clip \(Self.format(noise.clipNorm)))")
        }
        if ownExpertLayers > 0 {
            parts.append("own experts in \(ownExpertLayers) layer\(ownExpertLayers == 1 ? "" : "s")")
        }
        return parts.joined(separator: ", ")
    }

    /// Three significant digits, without trailing zeros: 11.3, 0.5, 4.
    private static func format(_ value: Double) -> String {
        String(format: "%.3g", value)
    }
}
