import Foundation
import PCMoECore

/// Checks on the files a command will write, made before any long work so
/// that a bad path fails at once and an existing file is never lost by mistake.
enum OutputFiles {
    /// Creates the `--out` folder when missing, then checks each of `files`
    /// in it, so a bad folder fails before any long work.
    static func prepare(folder: String, files: [String], replacing: Bool) throws {
        let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: " and ")
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            throw PCMoEError.invalidArgument("--out \(folder) is a file; give the folder to write \(names) in.")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw PCMoEError.io("cannot create the output folder \(folder): \(error.localizedDescription)")
        }
        for file in files { try check(file, option: "--out", replacing: replacing) }
    }

    /// Fails when `path` cannot be written as a new or replaced regular file:
    /// it is a folder or a device, its folder is missing or read-only, or it
    /// exists and `replacing` is false.
    static func check(_ path: String, option: String, replacing: Bool) throws {
        // Checkpoints are written through "<name>.tmp.<pid>", which must fit NAME_MAX.
        let name = (path as NSString).lastPathComponent
        guard name.utf8.count + 16 <= Int(NAME_MAX) else {
            throw PCMoEError.invalidArgument("the file name of \(option) \(path) is too long; use at most \(Int(NAME_MAX) - 16) bytes.")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw PCMoEError.invalidArgument(
                    "\(option) \(path) is a symbolic link or a special file; give the path of a regular file.")
            }
            guard replacing else {
                throw PCMoEError.invalidArgument(
                    "\(path) already exists; pass --overwrite to replace it, or give another \(option).")
            }
        }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw PCMoEError.invalidArgument("the folder of \(option) \(path) does not exist; create \(folder) first.")
        }
        guard access(folder, W_OK) == 0 else {
            throw PCMoEError.invalidArgument("the folder \(folder) of \(option) \(path) is not writable; choose another path.")
        }
    }

    /// Fails when the metrics file would damage something: it is one of the
    /// run's checkpoint, config or data files, not a regular file, or a
    /// non-empty file that does not start with a JSON object.
    static func checkMetrics(_ path: String, inputs: [String?]) throws {
        if inputs.contains(where: { same(path, $0) }) {
            throw PCMoEError.invalidArgument("--metrics \(path) is also a checkpoint, config or data file of this run; give another file.")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            try check(path, option: "--metrics", replacing: false)
            return
        }
        try check(path, option: "--metrics", replacing: true)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PCMoEError.io("cannot open the metrics file \(path); check its permissions.")
        }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 1)
        guard head.isEmpty || head.first == UInt8(ascii: "{") else {
            throw PCMoEError.invalidArgument(
                "--metrics \(path) exists and is not a JSON-lines file; give a new file or one written by --metrics.")
        }
    }

    /// True when both paths name the same file, after resolving ".", ".." and links.
    static func same(_ a: String, _ b: String?) -> Bool {
        guard let b else { return false }
        let resolve = { (p: String) in URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return resolve(a) == resolve(b)
    }
}
