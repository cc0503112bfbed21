import Foundation

/// An open safetensors file whose header has been read and checked.
///
/// ``read(path:)`` reads only the header. ``load(_:into:)`` then reads one
/// tensor's data at a time from the file, which stays open for the life of
/// this value, so a later rename over the path does not change what it reads.
/// Only the F32 dtype is accepted.
public struct SafeTensorsFile {
    /// The path the file was opened at, for messages.
    public let path: String
    /// The `__metadata__` object of the header, or an empty dictionary when it has none.
    public let metadata: [String: String]

    private let entries: [SafeTensorsEntry]
    private let entryIndex: [String: Int]
    private let file: ReadOnlyFile
    private let dataStart: Int

    /// The tensor names, in the order of their data in the file.
    public var names: [String] { entries.map(\.name) }

    /// Returns the stored shape of tensor `name`, or nil when the file has no such tensor.
    public func shape(of name: String) -> [Int]? {
        entryIndex[name].map { entries[$0].shape }
    }

    /// Opens the file at `path` and reads and checks its header.
    ///
    /// - Throws: ``PCMoEError/invalidCheckpoint(_:)`` naming the path and the
    ///   problem when the file is not a well-formed safetensors file of F32
    ///   tensors whose data tile the data region exactly, and
    ///   ``PCMoEError/io(_:)`` when opening or reading fails.
    public static func read(path: String) throws -> SafeTensorsFile {
        let file = try ReadOnlyFile(path: path)
        guard file.size >= 8 else {
            throw SafeTensorsHeader.notSafeTensors(path, "it is \(file.size) bytes long, shorter than the 8-byte header length")
        }

        var lengthField: UInt64 = 0
        try withUnsafeMutableBytes(of: &lengthField) { try file.read(into: $0, at: 0) }
        let headerLength = UInt64(littleEndian: lengthField)
        guard headerLength <= UInt64(SafeTensors.maxHeaderBytes) else {
            throw SafeTensorsHeader.notSafeTensors(path, "its header length \(headerLength) is over the \(SafeTensors.maxHeaderBytes)-byte limit")
        }
        guard headerLength <= UInt64(file.size - 8) else {
            throw SafeTensorsHeader.notSafeTensors(path, "its header length \(headerLength) is more than the \(file.size - 8) bytes that follow it")
        }

        var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
        try headerBytes.withUnsafeMutableBytes { try file.read(into: $0, at: 8) }
        let dataStart = 8 + Int(headerLength)
        let header = try SafeTensorsHeader.parse(headerBytes, dataSize: file.size - dataStart, path: path)

        return SafeTensorsFile(path: path, metadata: header.metadata, entries: header.entries,
                               entryIndex: indexByName(header.entries), file: file, dataStart: dataStart)
    }

    /// Copies the data of tensor `name` into `tensor`.
    ///
    /// - Throws: ``PCMoEError/invalidCheckpoint(_:)`` when the file has no
    ///   tensor `name` or stores it with another shape than `tensor.shape`,
    ///   and ``PCMoEError/io(_:)`` when reading fails.
    public func load(_ name: String, into tensor: Tensor) throws {
        guard let index = entryIndex[name] else {
            throw PCMoEError.invalidCheckpoint(
                "Checkpoint \(path) has no tensor named \"\(name)\"; load a checkpoint saved from the same model configuration.")
        }

        let entry = entries[index]
        guard entry.shape == tensor.shape else {
            throw PCMoEError.invalidCheckpoint(
                "Checkpoint \(path) stores tensor \"\(name)\" with shape \(entry.shape), but the model expects "
                    + "\(tensor.shape); load it into a model of the configuration it was saved from.")
        }

        let destination = UnsafeMutableRawBufferPointer(start: tensor.data, count: tensor.byteCount)
        try file.read(into: destination, at: dataStart + entry.begin)
    }

    /// Returns the position of each entry in `entries`, by name.
    private static func indexByName(_ entries: [SafeTensorsEntry]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, entry) in entries.enumerated() {
            index[entry.name] = position
        }
        return index
    }
}

/// A file descriptor opened for reading, closed when the last reference goes away.
private final class ReadOnlyFile {
    let path: String
    let descriptor: Int32
    /// The file size in bytes when it was opened.
    let size: Int

    /// Opens `path`, which must be a regular file.
    init(path: String) throws {
        self.path = path
        // O_NONBLOCK keeps a FIFO from blocking the open; the regular-file
        // check below then rejects it. Reads of regular files ignore the flag.
        descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw SafeTensorsIO.ioError("Opening checkpoint \(path) failed", reading: true)
        }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = SafeTensorsIO.ioError("Inspecting checkpoint \(path) failed", reading: true)
            close(descriptor)
            throw error
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw SafeTensorsHeader.notSafeTensors(path, "it is not a regular file")
        }
        size = Int(status.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Fills `buffer` with the bytes at `offset`.
    ///
    /// - Throws: ``PCMoEError/invalidCheckpoint(_:)`` when the file ends
    ///   first, which means it shrank after it was opened.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let piece = min(buffer.count - done, 1 << 30)
            let count = pread(descriptor, buffer.baseAddress! + done, piece, off_t(offset + done))
            if count < 0 {
                if errno == EINTR { continue }
                throw SafeTensorsIO.ioError("Reading checkpoint \(path) failed", reading: true)
            }
            if count == 0 {
                throw PCMoEError.invalidCheckpoint(
                    "Checkpoint \(path) ended at byte \(offset + done), before the data its header lists; "
                        + "it was truncated after it was opened, so load it again.")
            }
            done += count
        }
    }
}
