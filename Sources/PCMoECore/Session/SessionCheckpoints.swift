import Foundation

/// A folder of one party's session checkpoints, one file per saved turn
/// count: `turns-00000012.safetensors` contains the party after 12 turns.
///
/// Files are written whole or not at all (a temporary file renamed over the
/// name), and only the newest ``keep`` are kept. Parties save at the same
/// turns and a new interval starts only after every party saved, so the
/// newest checkpoints of two parties are at most one interval apart and the
/// older of the two is still on every party's disk.
struct SessionCheckpoints {
    /// The folder.
    let folder: String
    /// How many checkpoints stay on disk.
    let keep = 2

    /// Creates the folder when it does not exist.
    /// - Throws: ``PCMoEError/io(_:)`` when it cannot be created.
    init(folder: String) throws {
        self.folder = folder
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw PCMoEError.io("the checkpoint folder \(folder) cannot be created: \(error.localizedDescription)")
        }
    }

    /// Returns the path of the checkpoint after `turns` turns.
    func path(turns: UInt64) -> String {
        Self.path(in: folder, turns: turns)
    }

    /// Returns the path of the checkpoint after `turns` turns in `folder`.
    static func path(in folder: String, turns: UInt64) -> String {
        (folder as NSString).appendingPathComponent(String(format: "turns-%08llu.safetensors", turns))
    }

    /// Lists the turn counts of the checkpoints on disk, oldest first.
    func saved() -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap(Self.turns(ofName:)).sorted()
    }

    /// Returns the turn count of a file named exactly as ``path(in:turns:)``
    /// names one (at least eight decimal digits, zero-padded), or nil for any
    /// other name, such as `turns-99.safetensors`.
    static func turns(ofName name: String) -> UInt64? {
        guard name.hasPrefix("turns-"), name.hasSuffix(".safetensors") else { return nil }
        let digits = name.dropFirst("turns-".count).dropLast(".safetensors".count)
        guard digits.allSatisfy({ ("0"..."9").contains($0) }), let turns = UInt64(digits),
              name == String(format: "turns-%08llu.safetensors", turns) else { return nil }
        return turns
    }

    /// Removes temporary files that a save cut short left behind.
    func removeTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix("turns-") && name.contains(".safetensors.tmp") {
            unlink((folder as NSString).appendingPathComponent(name))
        }
    }

    /// Writes `host`'s checkpoint after `turns` turns and removes all but the newest ``keep``.
    /// - Throws: the errors of ``PartyHost/save(to:)``.
    func save(_ host: PartyHost, turns: UInt64) throws {
        try host.save(to: path(turns: turns))
        for old in saved().dropLast(keep) {
            unlink(path(turns: old))
        }
    }
}
