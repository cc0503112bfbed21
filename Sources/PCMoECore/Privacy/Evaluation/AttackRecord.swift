import Foundation

/// One token of one training turn of the victim: the turn and the token's
/// index within the turn's B·T tokens.
struct TokenKey: Hashable, Comparable {
    let turn: UInt64
    let position: Int

    static func < (a: TokenKey, b: TokenKey) -> Bool {
        (a.turn, a.position) < (b.turn, b.position)
    }
}

/// A training forward request of the victim: its turn and MoE layer.
private struct RequestKey: Hashable {
    let turn: UInt64
    let layer: Int
}

/// The rows the attacker received from the victim at one MoE layer, one
/// row per token, with the byte each came from.
struct ObservedLayer {
    /// Row-major [tokens.count, d]. A token sent to two of the attacker's
    /// experts sends the same row twice; the first one is kept.
    var rows: [Float] = []
    /// The true byte of each row: the victim's input byte at the token.
    var bytes: [UInt8] = []
    /// The token of each row, in increasing order.
    var tokens: [TokenKey] = []
}

/// The attacker's observations of the victim's training turns, joined with
/// the victim's own record of where each row came from.
struct VictimObservations {
    /// Per MoE layer.
    var layers: [ObservedLayer]
    /// Every token the attacker saw at any layer, in increasing order.
    var tokens: [TokenKey]
    /// For each of those tokens, the attacker's experts it picked at each layer.
    var routing: [[[Int]]]
    /// The true byte of each of those tokens.
    var bytes: [UInt8]
}

/// Collects, during a run, the attacker's record of the rows the victim
/// sent it and the victim's record of where those rows came from.
/// Thread-safe: the taps run on the parties' threads.
final class AttackRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [ReceivedRows] = []
    private var origins: [SentRowOrigins] = []

    /// Starts recording the training forwards `victim` sends to `attacker`.
    func attach(attacker: Party, victim: Party) {
        let (attackerId, victimId) = (attacker.id, victim.id)
        attacker.observeReceivedRows { [self] rows in
            guard rows.sender == victimId, !rows.inference else { return }
            lock.withLock { received.append(rows) }
        }
        victim.recordSentRowOrigins { [self] origin in
            guard origin.owner == attackerId, !origin.inference else { return }
            lock.withLock { origins.append(origin) }
        }
    }

    /// Joins the two records. `batches` contains the victim's tokens of each
    /// turn (B sequences of T + 1 bytes).
    /// - Throws: ``PCMoEError/invalidData(_:)`` when the records disagree:
    ///   a request one side has and the other lacks, or other experts or row counts.
    func observations(config: ModelConfig, batches: [UInt64: [UInt8]]) throws -> VictimObservations {
        let (received, origins) = lock.withLock { (self.received, self.origins) }
        // The victim sends one training forward per owner, turn and layer.
        var originByRequest: [RequestKey: SentRowOrigins] = [:]
        for origin in origins { originByRequest[RequestKey(turn: origin.turn, layer: origin.layer)] = origin }
        guard originByRequest.count == origins.count, received.count == origins.count else {
            throw PCMoEError.invalidData("the attacker recorded \(received.count) requests and the victim "
                                             + "\(origins.count); the records do not pair up.")
        }

        var rowsByToken = [[TokenKey: ArraySlice<Float>]](repeating: [:], count: config.layers)
        var routing: [TokenKey: [[Int]]] = [:]
        let d = config.dModel
        for rows in received {
            guard batches[rows.turn] != nil else {
                throw PCMoEError.invalidData("the attacker recorded rows of turn \(rows.turn), which is not a turn of the victim.")
            }
            guard let origin = originByRequest[RequestKey(turn: rows.turn, layer: rows.layer)], origin.experts == rows.experts,
                  rows.rows.count == origin.positions.count * d else {
                throw PCMoEError.invalidData("the victim has no matching record of the request of turn \(rows.turn), "
                                                 + "layer \(rows.layer) that the attacker received.")
            }
            for (r, position) in origin.positions.enumerated() {
                let key = TokenKey(turn: rows.turn, position: position)
                if rowsByToken[rows.layer][key] == nil { rowsByToken[rows.layer][key] = rows.rows[(r * d)..<((r + 1) * d)] }
                routing[key, default: [[Int]](repeating: [], count: config.layers)][rows.layer].append(rows.experts[r])
            }
        }

        let truth = { (key: TokenKey) -> UInt8 in
            let t = config.sequence
            return batches[key.turn]![key.position / t * (t + 1) + key.position % t]
        }
        let layers = rowsByToken.map { byToken -> ObservedLayer in
            var layer = ObservedLayer()
            layer.tokens = byToken.keys.sorted()
            layer.rows.reserveCapacity(layer.tokens.count * d)
            for key in layer.tokens { layer.rows += byToken[key]! }
            layer.bytes = layer.tokens.map(truth)
            return layer
        }
        let tokens = routing.keys.sorted()
        return VictimObservations(layers: layers, tokens: tokens, routing: tokens.map { routing[$0]! },
                                  bytes: tokens.map(truth))
    }
}
