/// The identity of a party in its session, and how it exchanges messages with the others.
public struct PartySettings: Sendable, Equatable {
    /// This party's id, 0 ..< `partyCount`.
    public var id: Int
    /// The number of parties; expert e of every layer belongs to party e mod `partyCount`.
    public var partyCount: Int
    /// The session id all parties agreed on; never 0.
    public var session: UInt64
    /// The element type of the tensors this party sends.
    public var wireType: WireDType = .f32
    /// Seconds to wait for a reply before the request is sent again or,
    /// after the last retry, the call fails.
    public var callTimeout: Double = 120
    /// How many times an unanswered request is sent again, with its request id.
    public var callRetries = 2
    /// Seeds the initial backbone. Keep it private: a peer that knows the
    /// initial backbone can compute the rows a guessed text would send. Nil,
    /// the default, draws a seed from the system's random generator.
    public var backboneSeed: UInt64?
    /// Clipping and Gaussian noise on the rows this party sends to other
    /// owners; nil, the default, sends them exact. See ``RowNoise``.
    public var rowNoise: RowNoise?
    /// In the first `ownExpertLayers` MoE layers, this party's router picks
    /// only among the experts this party owns, so the rows of those layers
    /// never leave it. The first layer's rows are the closest to the bytes,
    /// so 1 hides the most for its cost. 0, the default, routes freely.
    /// Needs at least top-k owned experts per layer.
    public var ownExpertLayers = 0

    /// The largest party count accepted.
    public static let maxParties = 1024
    /// The maximum call timeout, in seconds: one week.
    public static let maxCallTimeout = 604_800.0
    /// The most retries of one call.
    public static let maxCallRetries = 100

    /// Settings for party `id` of `partyCount` in `session`, sending f32,
    /// waiting 120 s per attempt and retrying a call twice.
    public init(id: Int, partyCount: Int, session: UInt64) {
        self.id = id
        self.partyCount = partyCount
        self.session = session
    }

    /// Checks the values.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the first bad value.
    public func validate() throws {
        guard (1...Self.maxParties).contains(partyCount) else {
            throw PCMoEError.invalidArgument("the party count is \(partyCount); it must be from 1 to \(Self.maxParties).")
        }
        guard (0..<partyCount).contains(id) else {
            throw PCMoEError.invalidArgument("the party id is \(id); with \(partyCount) parties it must be from 0 to \(partyCount - 1).")
        }
        guard session != 0 else {
            throw PCMoEError.invalidArgument("the session id is 0; pick any other 64-bit value and give it to every party.")
        }
        guard callTimeout.isFinite, callTimeout > 0, callTimeout <= Self.maxCallTimeout else {
            throw PCMoEError.invalidArgument(
                "the call timeout is \(callTimeout) s; it must be above 0 and at most \(Int(Self.maxCallTimeout)) s (one week).")
        }
        try rowNoise?.validate()
        guard ownExpertLayers >= 0 else {
            throw PCMoEError.invalidArgument("the own-expert layers are \(ownExpertLayers); give 0 or more.")
        }
        guard (0...Self.maxCallRetries).contains(callRetries) else {
            throw PCMoEError.invalidArgument("the call retries are \(callRetries); give 0 to \(Self.maxCallRetries).")
        }
    }

    /// Checks ``ownExpertLayers`` against the model: at most its layer
    /// count, and only for a party that owns at least top-k experts per
    /// layer. `name` is the name messages use for the setting. Call it after
    /// ``validate()``, which checks the party id and count it relies on.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming the setting.
    public func validateOwnExpertLayers(for config: ModelConfig, name: String = "the own-expert layer count") throws {
        guard ownExpertLayers > 0, partyCount > 0 else { return }
        guard ownExpertLayers <= config.layers else {
            throw PCMoEError.invalidArgument("\(name) is \(ownExpertLayers), but the model has \(config.layers) layers; "
                                                 + "give at most \(config.layers).")
        }
        let owned = (0..<config.experts).filter { $0 % partyCount == id }.count
        guard owned >= config.topK else {
            throw PCMoEError.invalidArgument("\(name) is \(ownExpertLayers), but party \(id) owns \(owned) of \(config.experts) "
                                                 + "experts per layer, fewer than top-k = \(config.topK), the least that "
                                                 + "own-expert routing needs. Give 0, more experts or a smaller top-k.")
        }
    }
}
