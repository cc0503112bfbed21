import Foundation

/// The identity and settings a party checkpoint records, enough to make
/// the party again for inference with no training data.
public struct PartyCheckpointInfo: Equatable, Sendable {
    /// The file.
    public let path: String
    /// The model's sizes.
    public let config: ModelConfig
    /// The run settings of the session.
    public let training: TrainingOptions
    /// The party's id, its session's party count and the session id.
    public let partyID: Int, partyCount: Int, session: UInt64
    /// The steps the party's experts had taken when it was saved.
    public let expertSteps: Int
}

extension PartyCheckpoint {
    /// Reads the metadata of a party checkpoint without loading its tensors.
    /// - Throws: ``PCMoEError/invalidCheckpoint(_:)`` for a file that is not
    ///   a party checkpoint of this format version or has unreadable metadata,
    ///   and ``PCMoEError/io(_:)`` when it cannot be read.
    public static func info(path: String) throws -> PartyCheckpointInfo {
        let meta = try SafeTensorsFile.read(path: path).metadata
        guard meta["format"] == formatName, meta["format_version"] == String(formatVersion) else {
            throw PCMoEError.invalidCheckpoint("\(path) is not a pcmoe party checkpoint of format version \(formatVersion).")
        }
        func field<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
            guard let text = meta[key], let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw PCMoEError.invalidCheckpoint("\(path) has a missing or unreadable \"\(key)\" entry in its metadata.")
            }
            return value
        }
        return PartyCheckpointInfo(path: path, config: try field("config", as: ModelConfig.self),
                                   training: try field("training", as: TrainingOptions.self),
                                   partyID: try field("party_id", as: Int.self),
                                   partyCount: try field("party_count", as: Int.self),
                                   session: try field("session", as: UInt64.self),
                                   expertSteps: try field("expert_steps", as: Int.self))
    }

    /// Returns the newest session checkpoint (`turns-NNNNNNNN.safetensors`,
    /// the largest NNNNNNNN) in `folder`, as a session run saves them. Other
    /// names, such as `turns-99.safetensors`, are ignored.
    /// - Throws: ``PCMoEError/io(_:)`` when the folder contains none or cannot be read.
    public static func newest(inFolder folder: String) throws -> String {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw PCMoEError.io("the checkpoint folder \(folder) cannot be read: \(error.localizedDescription)")
        }
        let turns = names.compactMap(SessionCheckpoints.turns(ofName:))
        guard let last = turns.max() else {
            throw PCMoEError.io("\(folder) contains no session checkpoint (turns-NNNNNNNN.safetensors); "
                                    + "give the --checkpoints folder of a party's run (after 'pcmoe party --in-process', "
                                    + "give its folder with --in-process: the parties' folders are its party-N subfolders).")
        }
        return SessionCheckpoints.path(in: folder, turns: last)
    }
}

extension Party {
    /// Makes the party that wrote the party checkpoint at `path`, with its
    /// weights, moments and step counters, and no training data.
    ///
    /// `adjust` may change the transport settings: wire type, timeouts and
    /// retries. The id, party count and session come from the file, so
    /// `adjust` must leave them as they are.
    /// - Throws: the errors of ``PartyCheckpoint/info(path:)`` and
    ///   ``PartyCheckpoint/load(into:from:check:)``, and
    ///   ``PCMoEError/invalidArgument(_:)`` when `adjust` changed the identity.
    public static func restored(from path: String, adjust: (inout PartySettings) -> Void = { _ in }) throws -> Party {
        let info = try PartyCheckpoint.info(path: path)
        var settings = PartySettings(id: info.partyID, partyCount: info.partyCount, session: info.session)
        adjust(&settings)
        guard (settings.id, settings.partyCount, settings.session) == (info.partyID, info.partyCount, info.session) else {
            throw PCMoEError.invalidArgument("\(path) belongs to party \(info.partyID) of \(info.partyCount) in session "
                                                 + "\(info.session); the settings may not change that.")
        }
        // The backbone seed only fixes the initial values, which the load replaces.
        settings.backboneSeed = 0
        let party = try Party(settings: settings, config: info.config, options: info.training)
        try PartyCheckpoint.load(into: party, from: path)
        return party
    }
}
