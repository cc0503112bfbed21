import Foundation
import PCMoECore

/// The checkpoint file of a run, saved only while no one else has changed it.
///
/// The file's identity (device, inode, size, modification time) is taken at
/// the start and after each save. When another process replaced or wrote the
/// file in between, the run saves to `<path>.<pid>` instead and fails, so
/// neither run's work is lost.
final class SaveTarget {
    let path: String
    private var seen: [Int]?

    init(path: String) {
        self.path = path
        seen = Self.identity(path)
    }

    /// Writes the trainer's checkpoint to `path`, or to the fallback path
    /// when `path` changed since this run last saw it.
    func save(_ trainer: Trainer) throws {
        guard Self.identity(path) == seen else {
            let fallback = "\(path).\(getpid())"
            try Checkpoint.save(trainer, to: fallback)
            throw PCMoEError.io(
                "\(path) was changed by another process during this run, so this run's checkpoint was saved to \(fallback) instead.")
        }
        try Checkpoint.save(trainer, to: path)
        seen = Self.identity(path)
    }

    private static func identity(_ path: String) -> [Int]? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return [Int(status.st_dev), Int(status.st_ino), Int(status.st_size),
                Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec)]
    }
}
