import Foundation
import PCMoECore

// Measures what the network transport costs: rounds of three PC-MoE turns
// with the parties joined by ZeroMQ over loopback TCP with CURVE, against
// the same rounds in process, alternated so both see the same machine.

/// Three parties joined by ZeroMQ transports on 127.0.0.1 ports the system picks.
private func zeroMQParties(_ config: ModelConfig, _ options: TrainingOptions, wire: WireDType) throws
    -> ([Party], [ZeroMQTransport]) {
    let network = try LoopbackNetwork(partyCount: 3, session: 1, maxMessageBytes: Party.maxFrameBytes(config: config, options: options))
    let parties = try (0..<3).map { id in
        var settings = PartySettings(id: id, partyCount: 3, session: 1)
        settings.wireType = wire
        settings.backboneSeed = options.seed
        return try Party(settings: settings, config: config, options: options)
    }
    try network.start(parties)
    for party in parties { try party.join() }
    return (parties, network.transports)
}

/// Prints the ZeroMQ table for `bench`: µs per trained token in process and
/// over ZeroMQ, for f32 and bf16 on the wire.
func printNetworkTable(_ bench: BenchCase, rounds: Int) throws {
    let tokensPerRound = Double(3 * bench.batch * bench.config.sequence)
    print("")
    print("PC-MoE, 3 parties in one process, config \(bench.name): in-process transport against ZeroMQ over "
          + "loopback TCP with CURVE; medians of \(rounds) alternated rounds")
    print("")
    print("| wire | in-process µs/token | ZeroMQ µs/token | ZeroMQ overhead |")
    print("|---|---|---|---|")
    for wire in [WireDType.f32, .bf16] {
        var options = TrainingOptions()
        options.batch = bench.batch
        options.steps = 3 * (rounds + 1)
        let local = try InProcessSession(partyCount: 3, config: bench.config, options: options, wireType: wire)
        let (remote, transports) = try zeroMQParties(bench.config, options, wire: wire)
        defer { for transport in transports { transport.stop() } }
        var rng = SplitMix64(seed: 9)
        let batches = (0..<3).map { _ in
            (0..<(bench.batch * (bench.config.sequence + 1))).map { _ in UInt8(rng.next() % 96 + 32) }
        }
        var turn: UInt64 = 0
        func round(_ parties: [Party], from first: UInt64) throws {
            for (i, party) in parties.enumerated() {
                _ = try party.trainTurn(tokens: batches[i], turn: first + UInt64(i))
            }
        }
        var inProcess: [Double] = [], network: [Double] = []
        for index in 0...rounds {
            let first = turn + 1
            let localTime = try seconds { try round(local.parties, from: first) }
            let networkTime = try seconds { try round(remote, from: first) }
            turn += 3
            if index > 0 {  // the first round warms both up
                inProcess.append(localTime)
                network.append(networkTime)
            }
        }
        let (a, b) = (median(inProcess), median(network))
        print(String(format: "| %@ | %.1f | %.1f | %+.1f %% |", wire.description, 1e6 * a / tokensPerRound,
                     1e6 * b / tokensPerRound, 100 * (b / a - 1)))
    }
}
