import Foundation

/// POSIX file-system access for corpus loading, with errors that name the path.
enum CorpusFileSystem {
    /// The number of leading content bytes searched for a NUL byte to detect binary files.
    static let binaryProbeBytes = 8 * 1024

    /// The type of a file-system entry.
    enum Kind {
        case missing
        case regularFile
        case folder
        case symbolicLink
        case other
    }

    /// Returns the type of the entry at `path`, following a final symbolic link when `followLinks` is true.
    ///
    /// - Throws: ``PCMoEError/io(_:)`` when `stat` fails for another reason than a missing entry.
    static func kind(of path: String, followLinks: Bool) throws -> Kind {
        var status = stat()
        let result = followLinks ? stat(path, &status) : lstat(path, &status)
        if result != 0 {
            if errno == ENOENT { return .missing }
            throw PCMoEError.io("Cannot inspect corpus path \(path): \(errnoText()); check the path and its permissions.")
        }

        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .folder
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Returns the names in `folder`, without "." and "..", sorted by their UTF-8 bytes.
    ///
    /// Names that are not valid UTF-8 are skipped with a warning, because a
    /// Swift `String` cannot carry them back to `open`.
    static func sortedEntries(of folder: String, warn: (String) -> Void) throws -> [String] {
        guard let directory = opendir(folder) else {
            throw PCMoEError.io("Cannot list corpus folder \(folder): \(errnoText()); check its permissions.")
        }
        defer { closedir(directory) }

        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else { break }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(validatingCString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if let name {
                if name != "." && name != ".." { names.append(name) }
            } else {
                warn("Skipped an entry of \(folder) whose name is not valid UTF-8.")
            }
        }
        if errno != 0 {
            throw PCMoEError.io("Cannot list corpus folder \(folder): \(errnoText()); check the folder.")
        }

        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Reads the file at `path` and returns its content, decompressed when it is gzip.
    ///
    /// - Throws: ``PCMoEError/io(_:)`` when reading fails and
    ///   ``PCMoEError/invalidData(_:)`` when a gzip file is corrupt.
    static func readContent(of path: String) throws -> [UInt8] {
        let raw = try readFile(path)
        guard Gzip.hasMagic(raw) else { return raw }
        return try Gzip.decompress(raw, path: path)
    }

    /// Returns every byte of the file at `path`.
    static func readFile(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw PCMoEError.io("Cannot open corpus file \(path): \(errnoText()); check its permissions.")
        }
        defer { close(descriptor) }

        var status = stat()
        var bytes: [UInt8] = []
        if fstat(descriptor, &status) == 0 {
            guard Int(status.st_size) <= Corpus.maxBytes else { throw tooLarge(path) }
            bytes.reserveCapacity(Int(status.st_size))
        }

        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunkSize) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw PCMoEError.io("Cannot read corpus file \(path): \(errnoText()); check the file.")
            }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= Corpus.maxBytes else { throw tooLarge(path) }
        }
    }

    /// Builds the error for a file or a corpus over ``Corpus/maxBytes``.
    static func tooLarge(_ path: String) -> PCMoEError {
        PCMoEError.invalidData(
            "corpus data from \(path) exceeds the \(Corpus.maxBytes >> 20) MiB limit of a corpus held in memory; use a smaller part of it.")
    }

    /// Returns the `strerror` text of the current `errno`.
    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
