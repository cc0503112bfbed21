/// Parties of one session in one process, joined by an ``InProcessTransport``.
///
/// Tests, the demo and the benchmark use it; each party still sees only
/// envelopes, exactly as over a network.
public final class InProcessSession {
    /// The parties, by id.
    public let parties: [Party]
    /// The transport that joins them.
    public let transport: InProcessTransport

    /// Creates `partyCount` parties with the same sizes and run settings,
    /// each with its own memory ledger, and greets them with each other.
    ///
    /// Party i's backbone seed is `backboneSeeds[i]`, or, when none are
    /// given, the shared `options.seed`, so that every backbone starts like
    /// the one-process model with that seed. `rowNoise[i]`, when present, is
    /// party i's ``PartySettings/rowNoise``, and `ownExpertLayers[i]` its
    /// ``PartySettings/ownExpertLayers``.
    /// - Throws: as ``Party/init(settings:config:options:ledger:)`` and ``Party/join()``.
    public init(partyCount: Int, config: ModelConfig, options: TrainingOptions, session: UInt64 = 1,
                wireType: WireDType = .f32, backboneSeeds: [UInt64]? = nil, rowNoise: [Int: RowNoise] = [:],
                ownExpertLayers: [Int: Int] = [:]) throws {
        if let seeds = backboneSeeds, seeds.count != partyCount {
            throw PCMoEError.invalidArgument("\(seeds.count) backbone seeds for \(partyCount) parties; give one per party.")
        }
        transport = InProcessTransport(partyCount: max(partyCount, 0))
        var parties: [Party] = []
        for id in 0..<max(partyCount, 1) {
            var settings = PartySettings(id: id, partyCount: partyCount, session: session)
            settings.wireType = wireType
            settings.backboneSeed = backboneSeeds?[id] ?? options.seed
            settings.rowNoise = rowNoise[id]
            settings.ownExpertLayers = ownExpertLayers[id] ?? 0
            let party = try Party(settings: settings, config: config, options: options)
            party.transport = transport
            transport.attach(party)
            parties.append(party)
        }
        self.parties = parties
        for party in parties { try party.join() }
    }
}
