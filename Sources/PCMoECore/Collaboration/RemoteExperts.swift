/// The requester's side of the experts: sends the rows of each MoE layer to
/// the owners of the experts they were routed to, and combines the replies.
///
/// For each owner, the batches of the experts it owns are sent as one
/// request, experts ascending. Requests to other owners are sent first and
/// are in flight together while the party's own shard computes. Replies are
/// then split back into batches, so the result does not depend on the order
/// in which they arrive.
final class RemoteExperts: ExpertCompute {
    weak var party: Party?
    /// The turn the next calls belong to.
    var turn: UInt64 = 0
    /// For each layer with a forward waiting for its backward, the owner
    /// parts in the order they were sent.
    private var kept: [Int: [OwnerPart]] = [:]

    /// The batches one owner computes in one layer.
    struct OwnerPart {
        let owner: Int
        let batches: [Int]   // indices into the layer's batches
        let rows: [Int]      // row count of each of those batches
    }

    func forward(layer: Int, batches: [ExpertBatch], keepForBackward: Bool) throws -> [Tensor] {
        guard let party else { preconditionFailure("the party of these experts is gone") }
        let parts = ownerParts(batches, partyCount: party.settings.partyCount)
        if let sink = party.rowTaps.sentSink {
            for part in parts where part.owner != party.id {
                sink(origins(part, batches, layer: layer, inference: !keepForBackward))
            }
        }
        let label = keepForBackward ? "expert forward" : "inference forward"
        let results = try exchange(parts, batches, layer: layer, label: label, party: party) { experts, rows in
            let sent = party.rowNoise?.apply(to: rows, ledger: party.ledger) ?? rows
            let request = ExpertForwardRequest(turn: turn, layer: UInt32(layer), experts: experts,
                                               rows: WireTensor(sent, dtype: party.settings.wireType),
                                               inference: !keepForBackward)
            return .forward(request)
        } local: { experts, rows in
            try party.shard.forward(requester: party.id, turn: turn, layer: layer, experts: experts.map(Int.init),
                                    rows: rows, inference: !keepForBackward)
        }
        if keepForBackward { kept[layer] = parts }
        return results
    }

    func backward(layer: Int, gradients: [ExpertBatch]) throws -> [Tensor] {
        guard let party else { preconditionFailure("the party of these experts is gone") }
        guard let parts = kept.removeValue(forKey: layer) else {
            throw PCMoEError.invalidArgument("no forward of layer \(layer) is waiting for this backward.")
        }
        return try exchange(parts, gradients, layer: layer, label: "expert backward", party: party) { _, rows in
            .backward(LayerTensor(turn: turn, layer: UInt32(layer), tensor: WireTensor(rows, dtype: party.settings.wireType)))
        } local: { _, rows in
            try party.shard.backward(requester: party.id, turn: turn, layer: layer, gradients: rows)
        }
    }

    /// Sends each other owner's part as one request, computes the own part
    /// while those are in flight, then splits every result back into batches.
    private func exchange(_ parts: [OwnerPart], _ batches: [ExpertBatch], layer: Int, label: String, party: Party,
                          request: ([UInt32], Tensor) -> MessageBody,
                          local: ([UInt32], Tensor) throws -> Tensor) throws -> [Tensor] {
        let remote = parts.filter { $0.owner != party.id }
        let calls = try remote.map { part in
            let (experts, rows) = joined(part, batches)
            return try party.startCall(to: part.owner, request(experts, rows), what: label, layer: layer)
        }

        var results = [Tensor?](repeating: nil, count: batches.count)
        var localError: Error?
        if let mine = parts.first(where: { $0.owner == party.id }) {
            do {
                let (experts, rows) = joined(mine, batches)
                split(try local(experts, rows), part: mine, into: &results, ledger: party.ledger)
            } catch {
                localError = localFailure(error, party: party.id, what: label, layer: layer)
            }
        }
        let replies = try party.finishCalls(calls)
        if let localError { throw localError }

        for (i, part) in remote.enumerated() {
            let tensor = try replyTensor(replies[i], call: calls[i], part: part, layer: layer, party: party)
            split(tensor, part: part, into: &results, ledger: party.ledger)
        }
        return results.map { $0! }
    }

    func discardPending() {
        kept.removeAll()
    }

    /// In the party's first ``PartySettings/ownExpertLayers`` layers, only its own experts.
    func allowedExperts(layer: Int) -> [Bool]? {
        guard let party, layer < party.settings.ownExpertLayers else { return nil }
        let (id, n) = (party.id, party.settings.partyCount)
        return (0..<party.config.experts).map { $0 % n == id }
    }

    /// Groups batch indices by the owner of their expert, owners ascending.
    private func ownerParts(_ batches: [ExpertBatch], partyCount: Int) -> [OwnerPart] {
        var byOwner: [Int: [Int]] = [:]
        for (i, batch) in batches.enumerated() { byOwner[batch.expert % partyCount, default: []].append(i) }
        return byOwner.keys.sorted().map { owner in
            let indices = byOwner[owner]!
            return OwnerPart(owner: owner, batches: indices, rows: indices.map { batches[$0].rows.rows })
        }
    }

    /// Stacks the rows of a part's batches and lists the expert of each row.
    /// Returns the expert and token index of each row of `part`, in the order ``joined(_:_:)`` sends them.
    private func origins(_ part: OwnerPart, _ batches: [ExpertBatch], layer: Int, inference: Bool) -> SentRowOrigins {
        var experts: [Int] = [], positions: [Int] = []
        for i in part.batches {
            experts += repeatElement(batches[i].expert, count: batches[i].rows.rows)
            positions += batches[i].positions.map(Int.init)
        }
        return SentRowOrigins(owner: part.owner, turn: turn, layer: layer, experts: experts, positions: positions,
                              inference: inference)
    }

    private func joined(_ part: OwnerPart, _ batches: [ExpertBatch]) -> ([UInt32], Tensor) {
        let d = batches[part.batches[0]].rows.columns
        let total = part.rows.reduce(0, +)
        let rows = Tensor([total, d], ledger: party?.ledger)
        var experts: [UInt32] = []
        experts.reserveCapacity(total)
        var offset = 0
        for i in part.batches {
            let batch = batches[i]
            (rows.data + offset * d).update(from: batch.rows.data, count: batch.rows.count)
            offset += batch.rows.rows
            experts += repeatElement(UInt32(batch.expert), count: batch.rows.rows)
        }
        return (experts, rows)
    }

    /// Cuts a part's stacked result back into one tensor per batch.
    private func split(_ stacked: Tensor, part: OwnerPart, into results: inout [Tensor?], ledger: MemoryLedger?) {
        let d = stacked.columns
        var offset = 0
        for (i, rows) in zip(part.batches, part.rows) {
            let out = Tensor([rows, d], ledger: ledger)
            out.data.update(from: stacked.data + offset * d, count: rows * d)
            results[i] = out
            offset += rows
        }
    }

    /// Checks a reply from an owner against its request and decodes its tensor.
    private func replyTensor(_ reply: MessageBody, call: Call, part: OwnerPart, layer: Int, party: Party) throws -> Tensor {
        let body: LayerTensor
        switch reply {
        case .forwardReply(let r) where call.request == "ExpertForwardRequest": body = r
        case .backwardReply(let r) where call.request == "ExpertBackwardRequest": body = r
        default:
            throw PCMoEError.peer("party \(call.peer) replied to the \(call.what) of layer \(layer) with \(reply.nameWithArticle).")
        }
        guard body.turn == turn, body.layer == UInt32(layer) else {
            throw PCMoEError.peer("party \(call.peer) answered the \(call.what) of layer \(layer) in turn \(turn) "
                                      + "for layer \(body.layer) in turn \(body.turn).")
        }
        do {
            return try body.tensor.decode(rows: part.rows.reduce(0, +), columns: party.config.dModel,
                                          what: "the reply", ledger: party.ledger)
        } catch let refusal as ErrorReply {
            throw PCMoEError.peer("party \(call.peer) sent an invalid reply to the \(call.what) of layer \(layer): \(refusal.message)")
        }
    }
}
