/// The attacks of a ``PrivacyEvaluation``.
public enum AttackKind: String, Codable, CaseIterable, Sendable {
    /// k-means on one layer's rows; clusters labeled by matching their sizes
    /// to the byte frequencies of the attacker's own text.
    case clusterFrequency = "cluster-frequency"
    /// The same clusters, labeled by the majority byte of the known-plaintext
    /// rows in each, and by frequency where a cluster has none.
    case clusterKnown = "cluster-known"
    /// A classifier trained on the attacker's own text passed through its own backbone.
    case inversion
    /// The pattern of the attacker's experts a token picked over all layers,
    /// as one symbol, labeled by frequency.
    case routingFrequency = "routing-frequency"
    /// The routing symbols labeled from known plaintext.
    case routingKnown = "routing-known"
    /// The classifier trained on the attacker's text passed through the
    /// victim's own backbone: the bound for an attacker that has the victim's weights.
    case whiteBox = "white-box"
}

/// The score of one attack at one layer.
public struct AttackResult: Equatable, Sendable, Codable {
    /// The attack.
    public let attack: AttackKind
    /// The MoE layer whose rows it used, or nil for the routing attacks, which use every layer.
    public let layer: Int?
    /// The share of scored tokens whose byte it recovered, or nil when it had none to score.
    public let accuracy: Double?
    /// The share of the most frequent true byte among the scored tokens.
    public let baseline: Double?
    /// The number of tokens scored.
    public let count: Int

    init(attack: AttackKind, layer: Int?, predicted: [UInt8], truth: [UInt8]) {
        self.attack = attack
        self.layer = layer
        let score = AttackScore(predicted: predicted, truth: truth)
        accuracy = truth.isEmpty ? nil : score.accuracy
        baseline = truth.isEmpty ? nil : score.baseline
        count = truth.count
    }

    /// The attack's name, with its layer when it has one, for example "inversion L1".
    public var name: String {
        layer.map { "\(attack.rawValue) L\($0)" } ?? attack.rawValue
    }
}

/// The outcome of one run of a ``PrivacyEvaluation``.
public struct AttackReport: Equatable, Sendable, Codable {
    /// The protections the parties ran with.
    public let defense: DefenseSetting
    /// The attacking party.
    public let attacker: Int
    /// The attacked party.
    public let victim: Int
    /// Rounds of training; every party takes one turn per round.
    public let rounds: Int
    /// The validation bits per byte of each party at the end of the run.
    public let bitsPerByte: [Double]
    /// The victim's tokens over all its turns, B·T per turn.
    public let victimTokens: Int
    /// The victim's tokens whose row the attacker received, per MoE layer.
    public let observedPerLayer: [Int]
    /// The victim's tokens the attacker received at one layer at least.
    public let observedTokens: Int
    /// The score of every attack that ran.
    public let attacks: [AttackResult]
    /// Seconds spent training (with the recording and the extra forwards).
    public let trainingSeconds: Double
    /// Seconds spent fitting and applying the attacks.
    public let attackSeconds: Double
}
