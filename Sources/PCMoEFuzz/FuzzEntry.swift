import CFuzzer
import Foundation

/// `pcmoe-fuzz`: built by `make fuzz` (with -DPCMOE_FUZZ), the libFuzzer
/// driver over pcmoe_party_handle_message, taking libFuzzer's options.
/// Built normally, it replays saved inputs:
///
///     pcmoe-fuzz FILE_OR_FOLDER...        replay every file through the target
///     pcmoe-fuzz --write-seeds FOLDER     write the seed corpus
@main
struct FuzzEntry {
    static func main() {
        #if PCMOE_FUZZ
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) })
        #else
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            if arguments.first == "--write-seeds", arguments.count == 2 {
                let count = try SeedCorpus.write(to: arguments[1])
                print("wrote \(count) seed messages to \(arguments[1])")
            } else if !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) {
                let count = try replay(arguments)
                print("replayed \(count) inputs through pcmoe_party_handle_message: no crash")
            } else {
                FileHandle.standardError.write(Data("usage: pcmoe-fuzz FILE_OR_FOLDER... | --write-seeds FOLDER\n".utf8))
                exit(2)
            }
        } catch {
            FileHandle.standardError.write(Data("pcmoe-fuzz: \(error)\n".utf8))
            exit(1)
        }
        #endif
    }

    /// Feeds every file under `paths` to the target, in name order.
    static func replay(_ paths: [String]) throws -> Int {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            _ = bytes.withUnsafeBufferPointer { fuzzOne($0.baseAddress, $0.count) }
        }
        return files.count
    }
}
