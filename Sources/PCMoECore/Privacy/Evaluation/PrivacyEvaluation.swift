import Foundation

/// Trains the parties of a ``Comparison`` collaboratively while one party,
/// the attacker, keeps every row the victim sends its experts, then runs
/// the attacks of ``AttackKind`` on those rows and scores the recovered
/// bytes against the victim's real ones.
///
/// The recorded rows are the owner's decoded copy of each request, exactly
/// what crossed the wire. Training uses the comparison's batches, sizes and
/// seeds, so a run without defenses trains like the comparison's pcmoe mode.
/// Not thread-safe: one run at a time.
public final class PrivacyEvaluation {
    /// The parties, their data, the model and the run's length.
    public let comparison: Comparison
    /// The attacker, the victim and the attacks' settings.
    public let settings: AttackSettings
    /// Called after every round with the round (from 1) and each party's training loss.
    public var onRound: ((Int, [Double]) -> Void)?
    /// Called before each attack stage with a short description of it.
    public var onStage: ((String) -> Void)?
    /// Asked before every round; returning true stops the run with ``PCMoEError/cancelled(_:)``.
    public var isCancelled: () -> Bool = { false }

    /// Checks the settings against the comparison's parties and model.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public init(comparison: Comparison, settings: AttackSettings = AttackSettings()) throws {
        try settings.validate(partyCount: comparison.partyCount)
        self.comparison = comparison
        self.settings = settings
    }

    /// Checks that every party can run with `defense`: valid noise, and at
    /// least top-k own experts per layer for own-expert routing. ``run(_:)``
    /// checks the same, but only when its training starts.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the bad value.
    public func check(_ defense: DefenseSetting) throws {
        try defense.rowNoise?.validate()
        let count = comparison.partyCount
        for id in 0..<count {
            var settings = PartySettings(id: id, partyCount: count, session: 1)
            settings.ownExpertLayers = defense.ownExpertLayers
            try settings.validate()
            try settings.validateOwnExpertLayers(for: comparison.config, name: "--own-expert-layers")
        }
    }

    /// Trains with `defense` from fresh weights, then attacks.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a defense the parties
    ///   refuse; ``PCMoEError/cancelled(_:)`` when ``isCancelled`` says so;
    ///   as ``Party/trainTurn(tokens:turn:)`` and the attacks otherwise.
    public func run(_ defense: DefenseSetting) throws -> AttackReport {
        let start = Date()
        let session = try makeSession(defense)
        let (attacker, victim) = (session.parties[settings.attacker], session.parties[settings.victim])
        let recorder = AttackRecorder()
        recorder.attach(attacker: attacker, victim: victim)
        defer {
            attacker.observeReceivedRows(nil)
            victim.recordSentRowOrigins(nil)
        }
        let (batches, own, whiteBox) = try train(session)
        let bitsPerByte = try session.parties.map { party in
            try party.evaluate(comparison.corpora[party.id].validation, maxWindows: comparison.evalWindows).bitsPerByte
        }
        let trainingSeconds = Date().timeIntervalSince(start)

        let attackStart = Date()
        let observations = try recorder.observations(config: comparison.config, batches: batches)
        let attacks = try attack(observations, own: own, whiteBox: whiteBox)
        return AttackReport(defense: defense, attacker: settings.attacker, victim: settings.victim,
                            rounds: comparison.options.steps, bitsPerByte: bitsPerByte,
                            victimTokens: batches.count * comparison.options.batch * comparison.config.sequence,
                            observedPerLayer: observations.layers.map(\.bytes.count),
                            observedTokens: observations.tokens.count, attacks: attacks,
                            trainingSeconds: trainingSeconds, attackSeconds: Date().timeIntervalSince(attackStart))
    }

    private func makeSession(_ defense: DefenseSetting) throws -> InProcessSession {
        var noise: [Int: RowNoise] = [:], ownLayers: [Int: Int] = [:]
        for id in 0..<comparison.partyCount {
            // Each party draws its own noise, and the seeds keep runs repeatable.
            noise[id] = defense.rowNoise.map { RowNoise(clipNorm: $0.clipNorm, sigma: $0.sigma, seed: ($0.seed ?? 1) &+ UInt64(id)) }
            ownLayers[id] = defense.ownExpertLayers
        }
        return try comparison.collaborativeSession(privateBackbones: defense.privateBackbones, rowNoise: noise,
                                                   ownExpertLayers: ownLayers)
    }
}
