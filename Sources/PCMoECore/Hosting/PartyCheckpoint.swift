import Foundation

/// Party checkpoints: what one party holds, and nothing of the others.
///
/// A safetensors file with the party's backbone and its own experts under
/// their model names, the AdamW moments of both as `optimizer.m.<name>` and
/// `optimizer.v.<name>`, and metadata: `format` = "pcmoe-party-checkpoint",
/// `format_version`, `config`, `training`, `party_id`, `party_count`,
/// `session`, `backbone_steps`, `expert_steps`, `last_stepped_turn`,
/// `tensors_fnv1a64` (FNV-1a of every tensor's bytes in file order, to catch
/// damage that leaves values finite), plus whatever the caller adds (a host
/// records its data position there).
public enum PartyCheckpoint {
    /// The version this build writes and the only one it reads.
    public static let formatVersion = 1
    static let formatName = "pcmoe-party-checkpoint"

    /// Writes `party`'s weights, moments and step counters to `path`
    /// atomically, with `extra` added to the metadata.
    ///
    /// Call it between turns: a turn running meanwhile may be saved half-stepped.
    /// - Throws: ``PCMoEError/nonFinite(_:)`` for a NaN or infinite weight and
    ///   ``PCMoEError/io(_:)`` when writing fails; an existing file at `path`
    ///   is then left untouched.
    public static func save(_ party: Party, to path: String, extra: [String: String] = [:]) throws {
        let tensors = party.checkpointTensors
        if let bad = tensors.first(where: { !$0.tensor.isFinite }) {
            throw PCMoEError.nonFinite("\(path) was not written: \(bad.name) contains NaN or infinite values.")
        }
        var metadata = extra
        let shard = party.shard.lock.withLock { (party.shard.optimizer.stepCount, party.shard.lastSteppedTurn) }
        metadata["format"] = formatName
        metadata["format_version"] = String(formatVersion)
        metadata["config"] = try Checkpoint.json(party.config)
        metadata["training"] = try Checkpoint.json(party.options)
        metadata["party_id"] = String(party.id)
        metadata["party_count"] = String(party.settings.partyCount)
        metadata["session"] = String(party.settings.session)
        metadata["backbone_steps"] = String(party.backboneOptimizer.stepCount)
        metadata["expert_steps"] = String(shard.0)
        metadata["last_stepped_turn"] = String(shard.1)
        metadata["tensors_fnv1a64"] = String(fnv1a64(tensors.map(\.tensor)))
        try SafeTensors.write(path: path, tensors: tensors, metadata: metadata)
    }

    /// Loads a checkpoint written by ``save(_:to:extra:)`` into `party` and
    /// returns the file's metadata.
    ///
    /// The file must come from the same party of a session with the same
    /// sizes and run settings. Every tensor is read and checked before any
    /// is copied into the party, so a failed load leaves it as it was.
    /// Call it between turns.
    /// - Throws: ``PCMoEError/invalidCheckpoint(_:)`` naming the first field
    ///   that differs, or a missing, misshapen or non-finite tensor, and
    ///   ``PCMoEError/io(_:)`` when reading fails.
    /// `check` receives the metadata before anything changes and may throw to
    /// reject the file.
    @discardableResult
    public static func load(into party: Party, from path: String,
                            check: ([String: String]) throws -> Void = { _ in }) throws -> [String: String] {
        let file = try SafeTensorsFile.read(path: path)
        let meta = file.metadata
        try checkHeader(meta, party: party, path: path)
        guard let backboneSteps = count(meta, "backbone_steps"), let expertSteps = count(meta, "expert_steps"),
              let lastTurn = meta["last_stepped_turn"].flatMap(UInt64.init) else {
            throw PCMoEError.invalidCheckpoint("\(path) has no valid step counters in its metadata.")
        }
        // Every turn steps every shard once and its own party's backbone
        // once, and turn numbers rise by at least one per completed turn.
        guard expertSteps <= party.options.steps, backboneSteps <= expertSteps, lastTurn >= UInt64(expertSteps) else {
            throw PCMoEError.invalidCheckpoint("\(path) has inconsistent step counters (backbone \(backboneSteps), "
                                                   + "experts \(expertSteps), last turn \(lastTurn)); the file is damaged or edited.")
        }
        try check(meta)
        let targets = party.checkpointTensors
        var loaded: [Tensor] = []
        for (name, tensor) in targets {
            let copy = Tensor(tensor.shape)
            try file.load(name, into: copy)
            guard copy.isFinite else {
                throw PCMoEError.invalidCheckpoint("\(path) has NaN or infinite values in \(name).")
            }
            if name.hasPrefix("optimizer.v."), (0..<copy.count).contains(where: { copy[$0] < 0 }) {
                throw PCMoEError.invalidCheckpoint("\(path) has negative second moments in \(name); the file is damaged or edited.")
            }
            loaded.append(copy)
        }
        guard meta["tensors_fnv1a64"] == String(fnv1a64(loaded)) else {
            throw PCMoEError.invalidCheckpoint("\(path) fails its checksum (tensors_fnv1a64); the file is damaged or edited.")
        }
        for ((_, tensor), copy) in zip(targets, loaded) { tensor.copy(from: copy) }
        party.backboneOptimizer.stepCount = backboneSteps
        party.shard.lock.withLock { party.shard.optimizer.stepCount = expertSteps }
        party.shard.restore(lastSteppedTurn: lastTurn)
        return meta
    }

    /// Checks the format, the version and that the file belongs to this
    /// party of this session, naming the first field that differs.
    private static func checkHeader(_ meta: [String: String], party: Party, path: String) throws {
        guard meta["format"] == formatName else {
            throw PCMoEError.invalidCheckpoint(
                "\(path) is not a pcmoe party checkpoint (its metadata has no format \"\(formatName)\").")
        }
        guard meta["format_version"] == String(formatVersion) else {
            throw PCMoEError.invalidCheckpoint("\(path) has party checkpoint format version "
                                                   + "\(meta["format_version"] ?? "none"); this build reads version \(formatVersion).")
        }
        let expected = [
            ("party_id", String(party.id)), ("party_count", String(party.settings.partyCount)),
            ("session", String(party.settings.session)),
            ("config", try Checkpoint.json(party.config)), ("training", try Checkpoint.json(party.options)),
        ]
        for (key, value) in expected where meta[key] != value {
            throw PCMoEError.invalidCheckpoint("\(path) has \(key) \(meta[key] ?? "missing"), but this party has \(value).")
        }
    }

    private static func count(_ meta: [String: String], _ key: String) -> Int? {
        guard let text = meta[key], let value = Int(text), value >= 0, value <= TrainingOptions.maxSteps else { return nil }
        return value
    }
}

extension Party {
    /// Every tensor a party checkpoint holds, under its file name: weights
    /// (backbone and own experts), then the moments of both optimizers.
    var checkpointTensors: [NamedTensor] {
        var tensors = model.weights.named
        for optimizer in [backboneOptimizer, shard.optimizer] {
            tensors += optimizer.firstMoments.map { ("optimizer.m." + $0.name, $0.tensor) }
            tensors += optimizer.secondMoments.map { ("optimizer.v." + $0.name, $0.tensor) }
        }
        return tensors
    }
}
