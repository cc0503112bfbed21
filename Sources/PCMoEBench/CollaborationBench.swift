import Foundation
import PCMoECore

// Measures what collaboration costs: a round of three in-process PC-MoE
// turns against three centralized steps of the same model on the same
// batches, alternated so both see the same machine, and the bytes that
// crossed between parties per trained token for each wire type.

/// Per-round timings and traffic of one wire type.
struct CollaborationFigures {
    let wire: WireDType
    let collaborativeSeconds: Double
    let centralizedSeconds: Double
    let wireBytesPerToken: Double
}

func collaborationBench(_ bench: BenchCase, parties: Int, rounds: Int, wire: WireDType) throws -> CollaborationFigures {
    var options = TrainingOptions()
    options.batch = bench.batch
    options.steps = parties * (rounds + 1)
    let session = try InProcessSession(partyCount: parties, config: bench.config, options: options, wireType: wire)
    let central = try MoEModel(config: bench.config, seed: options.seed)
    let optimizer = AdamW(parameters: central.weights, gradients: central.gradients, ledger: nil)
    var rng = SplitMix64(seed: 9)
    let batches = (0..<parties).map { _ in
        (0..<(bench.batch * (bench.config.sequence + 1))).map { _ in UInt8(rng.next() % 96 + 32) }
    }

    var turn: UInt64 = 0
    func round() throws {
        for (i, party) in session.parties.enumerated() {
            turn += 1
            _ = try party.trainTurn(tokens: batches[i], turn: turn)
        }
    }
    func centralRound() throws {
        for tokens in batches {
            central.gradients.zero()
            let pass = try central.forward(tokens: tokens, batch: bench.batch, training: true)
            try central.backward(pass)
            clipGradients(central.gradients, maxNorm: options.clipNorm)
            optimizer.step(rate: options.learningRate)
        }
    }

    try round()  // untimed warm-up of both
    try centralRound()
    let before = session.parties.reduce(0) { $0 + $1.traffic.sent }
    var collaborative: [Double] = [], centralized: [Double] = []
    for _ in 0..<rounds {
        collaborative.append(try seconds(round))
        centralized.append(try seconds(centralRound))
    }
    let sent = session.parties.reduce(0) { $0 + $1.traffic.sent } - before
    let tokens = Double(rounds * parties * bench.batch * bench.config.sequence)
    return CollaborationFigures(wire: wire, collaborativeSeconds: median(collaborative),
                                centralizedSeconds: median(centralized), wireBytesPerToken: Double(sent) / tokens)
}

/// Prints the collaboration table for `bench` with three parties.
func printCollaborationTable(_ bench: BenchCase, rounds: Int) throws {
    let parties = 3
    let tokensPerRound = Double(parties * bench.batch * bench.config.sequence)
    print("")
    print("PC-MoE, \(parties) parties in one process, config \(bench.name): one round (\(parties) turns) against "
          + "\(parties) centralized steps on the same batches; medians of \(rounds) alternated rounds")
    print("")
    print("| wire | PC-MoE µs/token | centralized µs/token | overhead | wire bytes/token |")
    print("|---|---|---|---|---|")
    for wire in [WireDType.f32, .bf16] {
        let f = try collaborationBench(bench, parties: parties, rounds: rounds, wire: wire)
        print(String(format: "| %@ | %.1f | %.1f | %+.1f %% | %.0f |", wire.description,
                     1e6 * f.collaborativeSeconds / tokensPerRound, 1e6 * f.centralizedSeconds / tokensPerRound,
                     100 * (f.collaborativeSeconds / f.centralizedSeconds - 1), f.wireBytesPerToken))
    }
}
