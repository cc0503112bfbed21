import Foundation
import Testing
@testable import PCMoECore

/// Loads `paths` and returns the corpus with the warnings it produced.
private func loadCollectingWarnings(_ paths: [String]) throws -> (corpus: Corpus, warnings: [String]) {
    var warnings: [String] = []
    let corpus = try Corpus.load(paths: paths) { warnings.append($0) }
    return (corpus, warnings)
}

/// Runs `body` and returns the message of the ``PCMoEError/invalidData(_:)`` it throws,
/// or a description of what happened instead.
private func invalidDataMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error was thrown"
    } catch PCMoEError.invalidData(let message) {
        return message
    } catch {
        return "unexpected error: \(error)"
    }
}

/// Compresses `path` with /usr/bin/gzip into `path.gz` and returns the compressed bytes.
private func gzipFile(_ path: String) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = ["-k", "-n", "-f", path]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return try Array(Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
}

/// Returns `count` bytes of varied printable text, so that compression has work to do.
private func sampleText(_ count: Int, seed: Int = 0) -> [UInt8] {
    let words = Array("the quick brown fox jumps over a lazy dog while experts route bytes\n".utf8)
    return (0..<count).map { words[($0 * 7 + seed + $0 / 13) % words.count] }
}

/// Returns the first index where `actual` and `expected` differ, or nil when they are equal.
///
/// Comparing through this keeps a failure message to one index instead of two long arrays.
private func firstDifference(_ actual: [UInt8], _ expected: [UInt8]) -> Int? {
    let common = min(actual.count, expected.count)
    if let index = (0..<common).first(where: { actual[$0] != expected[$0] }) { return index }
    return actual.count == expected.count ? nil : common
}

private let devilDictionaryPath = "/usr/share/dictd/devil.dict.dz"

@Test func corpusSplitSizes() {
    for count in [0, 1, 9, 10, 11, 105, 1000] {
        let corpus = Corpus(name: "sizes", bytes: [UInt8](repeating: 65, count: count))
        #expect(corpus.validation.count == count / 10)
        #expect(corpus.train.count == count - count / 10)
        #expect(corpus.train.startIndex == 0)
        #expect(corpus.train.endIndex == corpus.validation.startIndex)
        #expect(corpus.validation.endIndex == count)
    }
}

@Test func corpusValidationIsLastTenth() throws {
    let folder = try TemporaryFolder()
    let bytes = sampleText(105)
    let path = try folder.write("text.txt", bytes)

    let (corpus, warnings) = try loadCollectingWarnings([path])

    #expect(warnings.isEmpty)
    #expect(corpus.name == path)
    #expect(corpus.bytes == bytes)
    #expect(Array(corpus.validation) == Array(bytes[95...]))
    #expect(Array(corpus.train) == Array(bytes[..<95]))
}

@Test func folderLoadsInNameByteOrder() throws {
    let folder = try TemporaryFolder()
    try folder.write("b", "b|")
    try folder.write("a", "a|")
    try folder.write("B", "B|")
    try folder.write("ab", "ab|")
    try folder.write("a-dir/y", "a-dir/y|")
    try folder.write("a-dir/x", "a-dir/x|")
    // "e" + U+0301 sorts before "f" by bytes, but after it by String's Unicode ordering.
    try folder.write("f", "f|")
    try folder.write("e\u{301}", "e-acute|")

    let (corpus, warnings) = try loadCollectingWarnings([folder.path])

    #expect(warnings.isEmpty)
    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "B|a|a-dir/x|a-dir/y|ab|b|e-acute|f|")
}

@Test func pathsLoadInGivenOrder() throws {
    let folder = try TemporaryFolder()
    let second = try folder.write("second", "2")
    let first = try folder.write("first", "1")

    let (corpus, _) = try loadCollectingWarnings([second, first])

    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "21")
    #expect(corpus.name == "\(second), \(first)")
}

@Test func symlinkInFolderIsSkipped() throws {
    let folder = try TemporaryFolder()
    let target = try folder.write("a.txt", "real text")
    let link = folder.path + "/b-link.txt"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

    let (corpus, warnings) = try loadCollectingWarnings([folder.path])

    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "real text")
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains(link) == true)
    #expect(warnings.first?.contains("symbolic link") == true)
}

@Test func directSymlinkIsFollowed() throws {
    let folder = try TemporaryFolder()
    let target = try folder.write("a.txt", "linked text")
    let link = folder.path + "/link.txt"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

    let (corpus, warnings) = try loadCollectingWarnings([link])

    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "linked text")
    #expect(warnings.isEmpty)
}

@Test func binaryFileIsSkipped() throws {
    let folder = try TemporaryFolder()
    try folder.write("fortunes", "A fortune.\n%\nAnother.\n")
    let index = try folder.write("fortunes.dat", [0, 0, 0, 2, 0, 0, 0, 2, 65, 10])

    let (corpus, warnings) = try loadCollectingWarnings([folder.path])

    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "A fortune.\n%\nAnother.\n")
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains(index) == true)
    #expect(warnings.first?.contains("binary") == true)
}

@Test func nulAfterFirst8KiBIsKept() throws {
    let folder = try TemporaryFolder()
    var bytes = sampleText(9000)
    bytes[8192] = 0
    let path = try folder.write("late-nul.txt", bytes)

    let (corpus, warnings) = try loadCollectingWarnings([path])

    #expect(warnings.isEmpty)
    #expect(firstDifference(corpus.bytes, bytes) == nil)
}

@Test func nulAtEndOf8KiBIsBinary() throws {
    let folder = try TemporaryFolder()
    var bytes = sampleText(9000)
    bytes[8191] = 0
    let path = try folder.write("edge-nul.txt", bytes)
    try folder.write("text.txt", "kept")

    let (corpus, warnings) = try loadCollectingWarnings([folder.path])

    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "kept")
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains(path) == true)
}

@Test func gzipMatchesPlainBytes() throws {
    let folder = try TemporaryFolder()
    let plain = sampleText(700_000)
    let path = try folder.write("text.txt", plain)
    let compressed = try gzipFile(path)
    #expect(compressed.prefix(2) == [0x1f, 0x8b])
    #expect(compressed.count < plain.count)

    let (corpus, warnings) = try loadCollectingWarnings([path + ".gz"])

    #expect(warnings.isEmpty)
    #expect(corpus.bytes.count == plain.count)
    #expect(firstDifference(corpus.bytes, plain) == nil)
}

@Test func gzipInFolderIsDecompressed() throws {
    let folder = try TemporaryFolder()
    let plain = sampleText(5000, seed: 3)
    let source = try folder.write("source/text.txt", plain)
    let compressed = try gzipFile(source)
    let gzipPath = try folder.write("corpus/text.txt.gz", compressed)

    let (corpus, warnings) = try loadCollectingWarnings([(gzipPath as NSString).deletingLastPathComponent])

    #expect(warnings.isEmpty)
    #expect(firstDifference(corpus.bytes, plain) == nil)
}

@Test func multiMemberGzipConcatenates() throws {
    let folder = try TemporaryFolder()
    let first = sampleText(3000, seed: 1)
    let second = sampleText(4000, seed: 2)
    let firstCompressed = try gzipFile(try folder.write("one.txt", first))
    let secondCompressed = try gzipFile(try folder.write("two.txt", second))
    let path = try folder.write("both.gz", firstCompressed + secondCompressed)

    let (corpus, _) = try loadCollectingWarnings([path])

    #expect(corpus.bytes.count == first.count + second.count)
    #expect(firstDifference(corpus.bytes, first + second) == nil)
}

@Test func gzipWithFlippedCRCFails() throws {
    let folder = try TemporaryFolder()
    var compressed = try gzipFile(try folder.write("text.txt", sampleText(2000)))
    // The trailer is CRC-32 then the length, 4 bytes each, little-endian.
    compressed[compressed.count - 8] ^= 0xff
    let path = try folder.write("bad-crc.gz", compressed)

    let message = invalidDataMessage { _ = try Corpus.load(paths: [path]) { _ in } }

    #expect(message.contains(path))
    #expect(message.contains("incorrect data check"))
}

@Test func truncatedGzipFails() throws {
    let folder = try TemporaryFolder()
    let compressed = try gzipFile(try folder.write("text.txt", sampleText(2000)))
    let path = try folder.write("short.gz", Array(compressed.dropLast(12)))

    let message = invalidDataMessage { _ = try Corpus.load(paths: [path]) { _ in } }

    #expect(message.contains(path))
    #expect(message.contains("truncated"))
}

@Test func gzipWithTrailingGarbageFails() throws {
    let folder = try TemporaryFolder()
    let compressed = try gzipFile(try folder.write("text.txt", sampleText(2000)))
    let path = try folder.write("garbage.gz", compressed + Array("not gzip".utf8))

    let message = invalidDataMessage { _ = try Corpus.load(paths: [path]) { _ in } }

    #expect(message.contains(path))
    #expect(message.contains("corrupt"))
}

@Test(.enabled(if: FileManager.default.fileExists(atPath: devilDictionaryPath),
               "\(devilDictionaryPath) is not installed (Debian package dict-devil)"))
func devilDictionaryLoads() throws {
    let (corpus, warnings) = try loadCollectingWarnings([devilDictionaryPath])

    #expect(warnings.isEmpty)
    #expect(corpus.bytes.count == 383_656)
    #expect(corpus.validation.count == 38_365)
}

@Test func emptyFileIsRejected() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("empty.txt", [])

    let message = invalidDataMessage { _ = try Corpus.load(paths: [path]) { _ in } }

    #expect(message.contains(path))
    #expect(message.contains("empty"))
}

@Test func emptyFileInFolderIsSkipped() throws {
    let folder = try TemporaryFolder()
    let empty = try folder.write("a-empty.txt", [])
    try folder.write("b.txt", "text")

    let (corpus, warnings) = try loadCollectingWarnings([folder.path])

    #expect(String(decoding: corpus.bytes, as: UTF8.self) == "text")
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains(empty) == true)
}

@Test func missingPathIsRejected() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/no-such-file.txt"

    let message = invalidDataMessage { _ = try Corpus.load(paths: [path]) { _ in } }

    #expect(message.contains(path))
    #expect(message.contains("does not exist"))
}

@Test func noPathsAreRejected() {
    let message = invalidDataMessage { _ = try Corpus.load(paths: []) { _ in } }

    #expect(message.contains("No corpus paths"))
}

@Test func allBinaryFilesAreRejected() throws {
    let folder = try TemporaryFolder()
    let first = try folder.write("one.dat", [1, 0, 2])
    let second = try folder.write("two.dat", [0])
    var warnings: [String] = []

    let message = invalidDataMessage {
        _ = try Corpus.load(paths: [first, second]) { warnings.append($0) }
    }

    #expect(message.contains("\(first), \(second)"))
    #expect(message.contains("no usable content"))
    #expect(warnings.count == 2)
}

@Test func binaryOnlyFolderIsRejected() throws {
    let folder = try TemporaryFolder()
    try folder.write("one.dat", [1, 0, 2])
    try folder.write("two.dat", [0])

    let message = invalidDataMessage { _ = try Corpus.load(paths: [folder.path]) { _ in } }

    #expect(message.contains(folder.path))
    #expect(message.contains("no usable files"))
}

@Test func emptyFolderIsRejected() throws {
    let folder = try TemporaryFolder()
    let empty = try folder.makeFolder("nothing-here")

    let message = invalidDataMessage { _ = try Corpus.load(paths: [empty]) { _ in } }

    #expect(message.contains(empty))
    #expect(message.contains("no usable files"))
}

@Test func requireLengthChecksBothSplits() throws {
    let corpus = Corpus(name: "hundred.txt", bytes: sampleText(100))
    #expect(corpus.train.count == 90)
    #expect(corpus.validation.count == 10)

    try corpus.requireLength(10)

    let validationShort = invalidDataMessage { try corpus.requireLength(11) }
    #expect(validationShort.contains("hundred.txt"))
    #expect(validationShort.contains("90"))
    #expect(validationShort.contains("10"))
    #expect(validationShort.contains("11"))

    let bothShort = invalidDataMessage { try corpus.requireLength(91) }
    #expect(bothShort.contains("91"))
}

@Test func unigramEntropyKnownValues() {
    let uniform = ArraySlice((0...255).map { UInt8($0) })
    #expect(abs(Corpus.unigramEntropyBits(uniform) - 8) < 1e-12)

    let constant = ArraySlice([UInt8](repeating: 7, count: 50))
    #expect(Corpus.unigramEntropyBits(constant) == 0)

    let twoSymbols = ArraySlice<UInt8>([1, 2, 1, 2])
    #expect(abs(Corpus.unigramEntropyBits(twoSymbols) - 1) < 1e-12)

    #expect(Corpus.unigramEntropyBits([]) == 0)
}
