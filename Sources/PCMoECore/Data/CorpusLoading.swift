import Foundation

extension Corpus {
    /// Loads the files at `paths`, in the order given, and concatenates their content.
    ///
    /// - A regular file is read whole. A path given here that is a symbolic
    ///   link is followed, to a file or to a folder.
    /// - A folder is read recursively. The entries of each folder are taken in
    ///   byte order of their names, and a subfolder's files take the
    ///   subfolder's place in that order. Inside folders, symbolic links,
    ///   empty files and special files (FIFOs, sockets, devices) are skipped
    ///   with a warning, so a folder cannot lead outside itself or into a loop.
    ///   Hidden entries (names that start with ".", such as `.git`) are
    ///   skipped with a warning too.
    /// - A file that starts with the gzip magic bytes 1f 8b is decompressed,
    ///   including multi-member files and dictzip (`.dz`) files.
    /// - A file whose first 8 KiB of content (after decompression) contain a
    ///   NUL byte is binary and is skipped with a warning, wherever it is.
    ///
    /// - Parameter warn: Receives one sentence for each skipped file, naming it.
    /// - Throws: ``PCMoEError/invalidData(_:)`` when `paths` is empty, a path
    ///   does not exist, a file given directly is empty, a folder yields no
    ///   usable file, a gzip file is corrupt, or nothing is left after skipping.
    ///   ``PCMoEError/io(_:)`` when the operating system fails to read a file or folder.
    public static func load(paths: [String], warn: (String) -> Void) throws -> Corpus {
        let name = paths.joined(separator: ", ")
        guard !paths.isEmpty else {
            throw PCMoEError.invalidData("No corpus paths were given; pass at least one file or folder.")
        }

        // The loader lives only for this call, so `warn` never outlives it.
        let bytes = try withoutActuallyEscaping(warn) { warn in
            var loader = CorpusLoader(warn: warn)
            for path in paths {
                try loader.appendTopLevel(path)
            }
            return loader.bytes
        }

        guard !bytes.isEmpty else {
            throw PCMoEError.invalidData(
                "Corpus \(name) has no usable content because every file was skipped; "
                    + "pass text files or folders that contain them.")
        }
        return Corpus(name: name, bytes: bytes)
    }
}

/// The state of one ``Corpus/load(paths:warn:)`` call: the bytes so far and the warning sink.
private struct CorpusLoader {
    let warn: (String) -> Void
    var bytes: [UInt8] = []

    /// Appends a path given by the caller, which may be a file, a folder or a
    /// symbolic link to either.
    mutating func appendTopLevel(_ path: String) throws {
        switch try CorpusFileSystem.kind(of: path, followLinks: true) {
        case .missing:
            throw PCMoEError.invalidData("Corpus path \(path) does not exist; check the path.")
        case .folder:
            let usedFiles = try appendFolder(path)
            if usedFiles == 0 {
                throw PCMoEError.invalidData(
                    "Corpus folder \(path) contains no usable files (only binary, empty, linked "
                        + "or special ones); add text files to it or remove it from the paths.")
            }
        case .regularFile:
            let content = try CorpusFileSystem.readContent(of: path)
            if content.isEmpty {
                throw PCMoEError.invalidData(
                    "Corpus file \(path) is empty; add text to it or remove it from the paths.")
            }
            try append(content, from: path)
        case .symbolicLink, .other:
            throw PCMoEError.invalidData(
                "Corpus path \(path) is neither a regular file nor a folder; pass a file or a folder.")
        }
    }

    /// Appends every usable file under `folder` and returns how many were used.
    private mutating func appendFolder(_ folder: String) throws -> Int {
        var usedFiles = 0
        for entry in try CorpusFileSystem.sortedEntries(of: folder, warn: warn) {
            let path = folder.hasSuffix("/") ? folder + entry : folder + "/" + entry
            usedFiles += try appendFolderEntry(path)
        }
        return usedFiles
    }

    /// Appends one entry found inside a folder and returns how many files were used.
    private mutating func appendFolderEntry(_ path: String) throws -> Int {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasPrefix(".") {
            warn("Skipped hidden entry \(path); pass it directly to read it.")
            return 0
        }
        switch try CorpusFileSystem.kind(of: path, followLinks: false) {
        case .missing:
            warn("Skipped \(path) because it was removed while the folder was being read.")
            return 0
        case .folder:
            return try appendFolder(path)
        case .regularFile:
            let content = try CorpusFileSystem.readContent(of: path)
            if content.isEmpty {
                warn("Skipped empty file \(path).")
                return 0
            }
            return try append(content, from: path) ? 1 : 0
        case .symbolicLink:
            warn("Skipped symbolic link \(path); pass it directly to read its target.")
            return 0
        case .other:
            warn("Skipped \(path) because it is not a regular file or a folder.")
            return 0
        }
    }

    /// Appends `content` unless it is binary, and returns whether it was appended.
    @discardableResult
    private mutating func append(_ content: [UInt8], from path: String) throws -> Bool {
        let probe = content.prefix(CorpusFileSystem.binaryProbeBytes)
        if probe.contains(0) {
            warn("Skipped binary file \(path) because its first 8 KiB contain a NUL byte.")
            return false
        }
        guard bytes.count + content.count <= Corpus.maxBytes else { throw CorpusFileSystem.tooLarge(path) }
        bytes.append(contentsOf: content)
        return true
    }
}
