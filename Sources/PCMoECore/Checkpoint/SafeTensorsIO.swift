import Foundation

/// POSIX file operations for safetensors files, with errors that name the path.
enum SafeTensorsIO {
    /// An open file descriptor being written, with the checkpoint path for messages.
    struct Output {
        let descriptor: Int32
        let path: String

        /// Writes all of `bytes`, retrying partial writes and interrupted calls.
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < bytes.count {
                // Linux transfers at most 0x7ffff000 bytes per write(2) call, so large buffers go in pieces.
                let piece = min(bytes.count - done, 1 << 30)
                let count = Foundation.write(descriptor, bytes.baseAddress! + done, piece)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ioError("Writing checkpoint \(path) failed")
                }
                done += count
            }
        }

        /// Writes all of `bytes`.
        func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }
    }

    /// Creates `temporaryPath`, lets `body` fill it, syncs it, renames it over
    /// `path` and syncs the folder.
    ///
    /// When anything before the rename fails, the temporary file is removed
    /// and `path` is not touched.
    static func writeThenRename(temporaryPath: String, path: String,
                                body: (Output) throws -> Void) throws {
        // A file or link left at the temporary name is removed (a link itself,
        // never its target), and the new file is created exclusively without
        // following links, so a planted link cannot redirect the write.
        unlink(temporaryPath)
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ioError("Writing checkpoint \(path) failed because its temporary file \(temporaryPath) cannot be created")
        }

        do {
            try fillAndClose(Output(descriptor: descriptor, path: path), body: body)
        } catch {
            unlink(temporaryPath)
            throw error
        }

        guard rename(temporaryPath, path) == 0 else {
            let error = ioError("Writing checkpoint \(path) failed because \(temporaryPath) cannot be renamed over it")
            unlink(temporaryPath)
            throw error
        }
        try syncFolder(containing: path)
    }

    /// Runs `body`, syncs the file and closes it, closing it on failure too.
    private static func fillAndClose(_ output: Output, body: (Output) throws -> Void) throws {
        do {
            try body(output)
            guard fsync(output.descriptor) == 0 else {
                throw ioError("Syncing checkpoint \(output.path) to disk failed")
            }
        } catch {
            close(output.descriptor)
            throw error
        }

        guard close(output.descriptor) == 0 else {
            throw ioError("Closing checkpoint \(output.path) failed")
        }
    }

    /// Syncs the folder that contains `path`, so that the rename survives a crash.
    private static func syncFolder(containing path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let folderPath = folder.isEmpty ? "." : folder
        let descriptor = open(folderPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ioError("Checkpoint \(path) was written, but opening its folder to sync it failed")
        }
        defer { close(descriptor) }

        // EINVAL means the file system cannot sync folders, which leaves nothing to do.
        if fsync(descriptor) != 0 && errno != EINVAL {
            throw ioError("Checkpoint \(path) was written, but syncing its folder failed")
        }
    }

    /// Builds an I/O error from `context` and the current `errno`, with
    /// advice for a failed write unless `reading`.
    static func ioError(_ context: String, reading: Bool = false) -> PCMoEError {
        let reason = String(cString: strerror(errno))
        let advice = reading ? "check the path and its permissions" : "check the path, its permissions and the free space"
        return PCMoEError.io("\(context): \(reason); \(advice).")
    }
}
