import Foundation

extension Party {
    /// Replaces the parties this one sends its experts to on request.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for an id outside the
    ///   session; the policy is then left as it was.
    public func allowExport(to parties: Set<Int>) throws {
        if let bad = parties.first(where: { !(0..<settings.partyCount).contains($0) }) {
            throw PCMoEError.invalidArgument("the export policy names party \(bad); with \(settings.partyCount) parties "
                                                 + "the ids are 0 to \(settings.partyCount - 1).")
        }
        stateLock.withLock { allowedExports = parties }
        Log.write(.info, "party \(id) exports its experts to " + (parties.isEmpty ? "no party." : "parties \(parties.sorted())."))
    }

    /// Asks every other owner for its experts and writes the whole model
    /// (this party's backbone, its own experts and everyone else's) to
    /// `path` as a one-process checkpoint, which ``Checkpoint/loadModel(from:ledger:)``,
    /// `pcmoe eval` and `pcmoe generate --model` read with no peer.
    ///
    /// Each owner sends its experts only when its ``Party/exportAllowed``
    /// names this party, and by default it refuses. All experts must come
    /// from the same number of steps as this party's own. The file contains
    /// weights only, no optimizer moments, and is written only when every
    /// expert arrived and no file exists at `path`.
    /// - Throws: ``PCMoEError/peer(_:)`` naming every owner that refused or
    ///   did not answer, or whose experts are at another step, and
    ///   ``PCMoEError/invalidArgument(_:)`` when `path` exists; nothing is
    ///   written then. ``PCMoEError/io(_:)`` when the file cannot be written.
    public func exportModel(to path: String) throws {
        try lockTurn()
        defer { unlockTurn() }
        calls.resetCancel()
        let whole = try MoEModel(config: config, seed: options.seed)
        copyOwnWeights(into: whole)

        var failures: [String] = []
        for peer in 0..<settings.partyCount where peer != id {
            do {
                try fetchExperts(of: peer, into: whole)
            } catch let error as PCMoEError {
                if case .cancelled = error { throw error }
                failures.append(error.message)
            }
        }
        guard failures.isEmpty else {
            throw PCMoEError.peer("the model was not exported and \(path) was not written: " + failures.joined(separator: " "))
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw PCMoEError.invalidArgument("\(path) exists; an export writes only a new file, so remove it or give "
                                                 + "another path.")
        }
        let metadata = [
            "format": Checkpoint.formatName, "format_version": String(Checkpoint.formatVersion),
            "config": try Checkpoint.json(config), "training": try Checkpoint.json(options),
            "step": String(expertSteps), "exported_by_party": String(id),
            "party_count": String(settings.partyCount), "session": String(settings.session),
        ]
        try SafeTensors.write(path: path, tensors: whole.weights.named, metadata: metadata)
        Log.write(.info, "party \(id) exported the whole model after \(expertSteps) expert steps to \(path).")
    }

    /// Copies the backbone and this party's own experts, read under the shard's lock.
    private func copyOwnWeights(into whole: MoEModel) {
        let target = Dictionary(uniqueKeysWithValues: whole.weights.named.map { ($0.name, $0.tensor) })
        shard.lock.withLock {
            for (name, tensor) in model.weights.named {
                target[name]?.copy(from: tensor)
            }
        }
    }

    /// Fetches every expert `peer` owns, one request per layer and expert,
    /// and copies them into `whole`.
    private func fetchExperts(of peer: Int, into whole: MoEModel) throws {
        let owned = (0..<config.experts).filter { $0 % settings.partyCount == peer }
        for layer in 0..<config.layers {
            let calls = try owned.map { expert in
                try startCall(to: peer, .exportRequest(layer: UInt32(layer), expert: UInt32(expert)),
                              what: "export of expert \(expert)", layer: layer)
            }
            for (expert, reply) in zip(owned, try finishCalls(calls)) {
                guard case .exportReply(let body) = reply, body.layer == UInt32(layer), body.expert == UInt32(expert) else {
                    throw PCMoEError.peer("party \(peer) returned \(reply.nameWithArticle) in response to the export of "
                                              + "expert \(expert) of layer \(layer).")
                }
                guard body.stepsTaken == UInt64(expertSteps) else {
                    throw PCMoEError.peer("party \(peer)'s experts have taken \(body.stepsTaken) steps and party \(id)'s "
                                              + "\(expertSteps); export from checkpoints saved after the same turn.")
                }
                try store(body, from: peer, in: whole.weights.layers[layer].experts[expert]!)
            }
        }
    }

    private func store(_ body: ExpertExport, from peer: Int, in target: ExpertWeights) throws {
        let (d, f) = (config.dModel, config.expertHidden)
        let place = "expert \(body.expert) of layer \(body.layer) from party \(peer)"
        do {
            target.gate.copy(from: try body.gate.decode(rows: d, columns: f, what: "the gate of \(place)"))
            target.up.copy(from: try body.up.decode(rows: d, columns: f, what: "the up matrix of \(place)"))
            target.down.copy(from: try body.down.decode(rows: f, columns: d, what: "the down matrix of \(place)"))
        } catch let refusal as ErrorReply {
            throw PCMoEError.peer("party \(peer) sent a bad export: \(refusal.message)")
        }
    }
}

extension ExpertShard {
    /// Reads expert `expert` of `layer` for `requester`, when `allowed` names it.
    /// - Throws: ``ErrorReply`` with code ``WireErrorCode/refused`` when the
    ///   policy does not name the requester, and
    ///   ``WireErrorCode/invalidRequest`` for a layer or expert out of range
    ///   or not owned here.
    func export(layer: Int, expert: Int, to requester: Int, allowed: Set<Int>) throws -> ExpertExport {
        guard allowed.contains(requester) else {
            let policy = allowed.isEmpty ? "it exports to no party"
                : "it exports only to " + allowed.sorted().map { "party \($0)" }.joined(separator: ", ")
            throw ErrorReply(code: .refused, message: "party \(owner) refuses to send its experts to party \(requester): "
                                 + "\(policy).", layer: UInt32(clamping: layer))
        }
        lock.lock()
        defer { lock.unlock() }
        try checkLayer(layer)
        guard (0..<config.experts).contains(expert), owns(expert), let weights = weights.layers[layer].experts[expert] else {
            throw ErrorReply(code: .invalidRequest, message: "party \(owner) does not own expert \(expert) of layer \(layer).",
                             layer: UInt32(layer))
        }
        return ExpertExport(layer: UInt32(layer), expert: UInt32(expert), stepsTaken: UInt64(optimizer.stepCount),
                            gate: WireTensor(weights.gate, dtype: .f32), up: WireTensor(weights.up, dtype: .f32),
                            down: WireTensor(weights.down, dtype: .f32))
    }
}
