import Foundation
import PCMoECore

/// Reads a small regular file whole, refusing special files and files over
/// `limit` bytes before reading them, so a FIFO cannot block the command and
/// a huge or sparse file cannot exhaust memory.
func readSmallFile(_ path: String, limit: Int, label: String) throws -> Data {
    var status = stat()
    guard stat(path, &status) == 0 else {
        throw PCMoEError.io("cannot read the \(label) \(path): \(String(cString: strerror(errno))); check the path.")
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
        throw PCMoEError.invalidArgument("the \(label) \(path) is not a regular file; give a file.")
    }
    guard Int(status.st_size) <= limit else {
        throw PCMoEError.invalidArgument(
            "the \(label) \(path) has \(status.st_size) bytes, more than the \(limit) accepted; give a smaller file.")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw PCMoEError.io("cannot read the \(label) \(path); check its permissions.")
    }
    return data
}
