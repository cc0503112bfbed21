import Foundation
import Testing
@testable import PCMoECore

/// Returns the bytes of the file at `path`.
private func fileBytes(_ path: String) throws -> [UInt8] {
    try Array(Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Returns a file image: the 8-byte little-endian `headerLength` (by default
/// the length of `header`), the header text and `data`.
private func safetensorsImage(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = headerLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + headerBytes + data
}

/// Runs `body` and returns the message of the ``PCMoEError/invalidCheckpoint(_:)`` it throws,
/// or a description of what happened instead.
private func invalidCheckpointMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error was thrown"
    } catch PCMoEError.invalidCheckpoint(let message) {
        return message
    } catch {
        return "unexpected error: \(error)"
    }
}

/// Runs `body` and returns the message of the ``PCMoEError/io(_:)`` it throws,
/// or a description of what happened instead.
private func ioMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error was thrown"
    } catch PCMoEError.io(let message) {
        return message
    } catch {
        return "unexpected error: \(error)"
    }
}

/// Returns a small set of tensors with distinct values, including a scalar and an empty tensor.
private func sampleTensors(offset: Float = 0) -> [(name: String, tensor: Tensor)] {
    [
        ("embedding", Tensor([3, 4], values: (0..<12).map { Float($0) * 0.5 + offset })),
        ("scale", Tensor([], values: [2.5 + offset])),
        ("unused", Tensor([0, 5])),
        ("blocks.0/norm.weight", Tensor([7], values: (0..<7).map { -Float($0) - offset })),
    ]
}

@Test func safeTensorsRoundTrip() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    let tensors = sampleTensors()
    let metadata = ["step": "12", "note": "a/b \"quoted\" é\n"]

    try SafeTensors.write(path: path, tensors: tensors, metadata: metadata)
    let file = try SafeTensorsFile.read(path: path)

    #expect(file.names == tensors.map(\.name))
    #expect(file.metadata == metadata)
    #expect(file.shape(of: "missing") == nil)
    for (name, tensor) in tensors {
        #expect(file.shape(of: name) == tensor.shape)
        let loaded = Tensor(tensor.shape)
        try file.load(name, into: loaded)
        #expect(loaded.values == tensor.values)
    }
}

@Test func safeTensorsLayoutIsAlignedAndContiguous() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    let tensors = sampleTensors()
    try SafeTensors.write(path: path, tensors: tensors, metadata: ["k": "v"])

    let bytes = try fileBytes(path)
    let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
    let dataBytes = tensors.reduce(0) { $0 + $1.tensor.byteCount }
    #expect((8 + headerLength) % 8 == 0)
    #expect(bytes.count == 8 + headerLength + dataBytes)

    // The first tensor's floats start the data region, in little-endian order.
    let first = bytes[(8 + headerLength)...].prefix(tensors[0].tensor.byteCount)
    let floats = stride(from: first.startIndex, to: first.endIndex, by: 4).map { start in
        Float(bitPattern: first[start..<start + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
    }
    #expect(floats == tensors[0].tensor.values)

    let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any]
    let entry = header?["blocks.0/norm.weight"] as? [String: Any]
    #expect(entry?["data_offsets"] as? [Int] == [dataBytes - 28, dataBytes])
    #expect(entry?["dtype"] as? String == "F32")
}

@Test func safeTensorsWriteReplacesExistingFile() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    try SafeTensors.write(path: path, tensors: sampleTensors(), metadata: ["step": "1"])

    try SafeTensors.write(path: path, tensors: sampleTensors(offset: 100), metadata: ["step": "2"])

    let file = try SafeTensorsFile.read(path: path)
    #expect(file.metadata == ["step": "2"])
    let scale = Tensor([])
    try file.load("scale", into: scale)
    #expect(scale.values == [102.5])
    #expect(try folder.entryNames() == ["model.safetensors"])
}

@Test func safeTensorsFailedWriteKeepsOldFile() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    try SafeTensors.write(path: path, tensors: sampleTensors(), metadata: ["step": "1"])
    let oldBytes = try fileBytes(path)

    // A folder at the temporary path cannot be unlinked, so the exclusive
    // open(2) fails with EEXIST, even for root.
    let temporaryPath = "\(path).tmp.\(getpid())"
    try FileManager.default.createDirectory(atPath: temporaryPath, withIntermediateDirectories: false)
    let message = ioMessage {
        try SafeTensors.write(path: path, tensors: sampleTensors(offset: 100), metadata: ["step": "2"])
    }

    #expect(message.contains(path))
    #expect(message.contains("File exists"))
    #expect(try fileBytes(path) == oldBytes)
    var isFolder: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: temporaryPath, isDirectory: &isFolder))
    #expect(isFolder.boolValue)
}

@Test func safeTensorsFailedRenameRemovesTemporary() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    // rename(2) cannot replace a folder with a regular file (EISDIR), even for root.
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    try folder.write("model.safetensors/keep", [1, 2, 3])

    let message = ioMessage {
        try SafeTensors.write(path: path, tensors: sampleTensors(), metadata: [:])
    }

    #expect(message.contains(path))
    #expect(message.contains("renamed"))
    #expect(try folder.entryNames() == ["model.safetensors"])
    #expect(try fileBytes(path + "/keep") == [1, 2, 3])
}

@Test func safeTensorsWriteUnderRegularFileFails() throws {
    let folder = try TemporaryFolder()
    let plainFile = try folder.write("plain", [1])
    let path = plainFile + "/model.safetensors"

    let message = ioMessage {
        try SafeTensors.write(path: path, tensors: sampleTensors(), metadata: [:])
    }

    #expect(message.contains(path))
    #expect(message.contains("Not a directory"))
    #expect(try fileBytes(plainFile) == [1])
}

@Test func safeTensorsWriteRejectsDuplicateNames() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    let tensors: [(name: String, tensor: Tensor)] = [("a", Tensor([1])), ("a", Tensor([2]))]

    #expect(throws: PCMoEError.self) {
        try SafeTensors.write(path: path, tensors: tensors, metadata: [:])
    }
    #expect(throws: PCMoEError.self) {
        try SafeTensors.write(path: path, tensors: [("__metadata__", Tensor([1]))], metadata: [:])
    }
    #expect(try folder.entryNames().isEmpty)
}

@Test func safeTensorsLoadChecksNameAndShape() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    try SafeTensors.write(path: path, tensors: [("w", Tensor([2, 3]))], metadata: [:])
    let file = try SafeTensorsFile.read(path: path)

    let missing = invalidCheckpointMessage { try file.load("v", into: Tensor([2, 3])) }
    #expect(missing.contains(path))
    #expect(missing.contains("\"v\""))

    let wrongShape = invalidCheckpointMessage { try file.load("w", into: Tensor([3, 2])) }
    #expect(wrongShape.contains(path))
    #expect(wrongShape.contains("[2, 3]"))
    #expect(wrongShape.contains("[3, 2]"))
}

/// A malformed file image with a fragment of the message it must produce.
private struct MalformedCase {
    let label: String
    let image: [UInt8]
    let expected: String
}

/// Returns a header with one tensor entry "a" built from JSON fragments.
private func entryHeader(dtype: String = "\"F32\"", shape: String, offsets: String) -> String {
    "{\"a\":{\"dtype\":\(dtype),\"shape\":\(shape),\"data_offsets\":\(offsets)}}"
}

private let malformedCases: [MalformedCase] = [
    MalformedCase(label: "empty file", image: [], expected: "is not a safetensors file"),
    MalformedCase(label: "shorter than 8 bytes", image: [4, 0, 0], expected: "is not a safetensors file"),
    MalformedCase(label: "plain text", image: Array("Plain text, not a checkpoint at all.\n".utf8),
                  expected: "is not a safetensors file"),
    MalformedCase(label: "header past end", image: safetensorsImage(header: "{}", headerLength: 3),
                  expected: "more than the 2 bytes"),
    MalformedCase(label: "absurd header length", image: safetensorsImage(header: "{}", headerLength: .max),
                  expected: "limit"),
    MalformedCase(label: "zero header length", image: safetensorsImage(header: "", headerLength: 0),
                  expected: "not valid JSON"),
    MalformedCase(label: "invalid JSON", image: safetensorsImage(header: "{\"a\": "),
                  expected: "not valid JSON"),
    MalformedCase(label: "invalid UTF-8", image: [3, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff, 0x7d],
                  expected: "not valid UTF-8"),
    MalformedCase(label: "JSON array", image: safetensorsImage(header: "[1, 2]"), expected: "not an object"),
    MalformedCase(label: "JSON string", image: safetensorsImage(header: "\"text\""),
                  expected: "is not a safetensors file"),
    MalformedCase(label: "dtype F16",
                  image: safetensorsImage(header: entryHeader(dtype: "\"F16\"", shape: "[1]", offsets: "[0,2]"),
                                          data: [0, 0]),
                  expected: "dtype \"F16\""),
    MalformedCase(label: "dtype not a string",
                  image: safetensorsImage(header: entryHeader(dtype: "32", shape: "[1]", offsets: "[0,4]"),
                                          data: [0, 0, 0, 0]),
                  expected: "dtype 32"),
    MalformedCase(label: "negative dimension",
                  image: safetensorsImage(header: entryHeader(shape: "[-1]", offsets: "[0,4]"), data: [0, 0, 0, 0]),
                  expected: "shape entry -1"),
    MalformedCase(label: "fractional dimension",
                  image: safetensorsImage(header: entryHeader(shape: "[2.5]", offsets: "[0,4]"), data: [0, 0, 0, 0]),
                  expected: "shape entry 2.5"),
    MalformedCase(label: "dimension written with a fraction",
                  image: safetensorsImage(header: entryHeader(shape: "[1.0]", offsets: "[0,4]"), data: [0, 0, 0, 0]),
                  expected: "shape entry 1.0"),
    MalformedCase(label: "boolean dimension",
                  image: safetensorsImage(header: entryHeader(shape: "[true]", offsets: "[0,4]"), data: [0, 0, 0, 0]),
                  expected: "shape entry true"),
    MalformedCase(label: "string dimension",
                  image: safetensorsImage(header: entryHeader(shape: "[\"1\"]", offsets: "[0,4]"), data: [0, 0, 0, 0]),
                  expected: "shape entry \"1\""),
    MalformedCase(label: "huge dimension",
                  image: safetensorsImage(header: entryHeader(shape: "[18446744073709551616]", offsets: "[0,4]"),
                                          data: [0, 0, 0, 0]),
                  expected: "shape entry 18446744073709551616"),
    MalformedCase(label: "shape not an array",
                  image: safetensorsImage(header: entryHeader(shape: "4", offsets: "[0,4]"), data: [0, 0, 0, 0]),
                  expected: "not a JSON array"),
    MalformedCase(label: "shape product overflow",
                  image: safetensorsImage(header: entryHeader(shape: "[4611686018427387904,4]", offsets: "[0,4]"),
                                          data: [0, 0, 0, 0]),
                  expected: "overflows"),
    MalformedCase(label: "offsets out of bounds",
                  image: safetensorsImage(header: entryHeader(shape: "[4]", offsets: "[0,16]"), data: [0, 0, 0, 0]),
                  expected: "past the end of the 4-byte data region"),
    MalformedCase(label: "offsets reversed",
                  image: safetensorsImage(header: entryHeader(shape: "[1]", offsets: "[4,0]"), data: [0, 0, 0, 0]),
                  expected: "reversed"),
    MalformedCase(label: "negative offset",
                  image: safetensorsImage(header: entryHeader(shape: "[1]", offsets: "[-4,0]"), data: [0, 0, 0, 0]),
                  expected: "data_offsets [-4,0]"),
    MalformedCase(label: "three offsets",
                  image: safetensorsImage(header: entryHeader(shape: "[1]", offsets: "[0,4,8]"), data: [0, 0, 0, 0]),
                  expected: "two non-negative integers"),
    MalformedCase(label: "offsets wrong length for shape",
                  image: safetensorsImage(header: entryHeader(shape: "[3]", offsets: "[0,8]"), data: [UInt8](repeating: 0, count: 8)),
                  expected: "spans 8 bytes but shape [3] needs 12"),
    MalformedCase(label: "overlapping tensors",
                  image: safetensorsImage(
                      header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                      data: [UInt8](repeating: 0, count: 12)),
                  expected: "overlapping"),
    MalformedCase(label: "hole between tensors",
                  image: safetensorsImage(
                      header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                          + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                      data: [UInt8](repeating: 0, count: 12)),
                  expected: "bytes 4..<8 of its data region"),
    MalformedCase(label: "hole at start",
                  image: safetensorsImage(header: entryHeader(shape: "[1]", offsets: "[4,8]"), data: [UInt8](repeating: 0, count: 8)),
                  expected: "bytes 0..<4 of its data region"),
    MalformedCase(label: "hole at end",
                  image: safetensorsImage(header: entryHeader(shape: "[1]", offsets: "[0,4]"), data: [UInt8](repeating: 0, count: 8)),
                  expected: "bytes 4..<8 at the end"),
    MalformedCase(label: "data without tensors", image: safetensorsImage(header: "{}", data: [0]),
                  expected: "bytes 0..<1 at the end"),
    MalformedCase(label: "missing field",
                  image: safetensorsImage(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: [0, 0, 0, 0]),
                  expected: "[dtype, shape] instead of exactly"),
    MalformedCase(label: "extra field",
                  image: safetensorsImage(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}",
                                          data: [0, 0, 0, 0]),
                  expected: "instead of exactly"),
    MalformedCase(label: "entry not an object", image: safetensorsImage(header: "{\"a\":5}"),
                  expected: "entry for tensor \"a\" is not a JSON object"),
    MalformedCase(label: "metadata not an object", image: safetensorsImage(header: "{\"__metadata__\":[1]}"),
                  expected: "\"__metadata__\" entry is not a JSON object"),
    MalformedCase(label: "metadata value not a string", image: safetensorsImage(header: "{\"__metadata__\":{\"k\":1}}"),
                  expected: "metadata value for \"k\" is not a string"),
]

@Test func safeTensorsRejectsMalformedFiles() throws {
    let folder = try TemporaryFolder()
    for (index, malformed) in malformedCases.enumerated() {
        let path = try folder.write("case-\(index).safetensors", malformed.image)

        let message = invalidCheckpointMessage { _ = try SafeTensorsFile.read(path: path) }

        #expect(message.contains(path), "\(malformed.label): \(message)")
        #expect(message.contains(malformed.expected), "\(malformed.label): \(message)")
    }
}

@Test func safeTensorsAcceptsEmptyHeaderObject() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("empty.safetensors", safetensorsImage(header: "{}      "))

    let file = try SafeTensorsFile.read(path: path)

    #expect(file.names.isEmpty)
    #expect(file.metadata.isEmpty)
}

@Test func safeTensorsRejectsEveryTruncation() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    try SafeTensors.write(path: path, tensors: sampleTensors(), metadata: ["step": "3"])
    let bytes = try fileBytes(path)

    for length in 0..<bytes.count {
        let truncated = try folder.write("truncated.safetensors", Array(bytes[..<length]))
        let message = invalidCheckpointMessage { _ = try SafeTensorsFile.read(path: truncated) }
        #expect(message.contains(truncated), "length \(length): \(message)")
    }
}

@Test func safeTensorsCorruptHeaderBytesThrow() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/model.safetensors"
    try SafeTensors.write(path: path, tensors: sampleTensors(), metadata: ["step": "3"])
    let bytes = try fileBytes(path)
    let headerEnd = 8 + bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }

    // Each changed header byte must either still parse or throw a PCMoEError, never trap.
    var rejected = 0
    for position in 0..<headerEnd {
        for replacement: UInt8 in [0x00, 0x22, 0x2d, 0x39, 0x5b, 0x7d, 0xff] where bytes[position] != replacement {
            var corrupted = bytes
            corrupted[position] = replacement
            let corruptPath = try folder.write("corrupt.safetensors", corrupted)
            do {
                _ = try SafeTensorsFile.read(path: corruptPath)
            } catch is PCMoEError {
                rejected += 1
            }
        }
    }
    #expect(rejected > headerEnd)
}

@Test func safeTensorsReadRejectsFolderAndMissingFile() throws {
    let folder = try TemporaryFolder()

    let folderMessage = invalidCheckpointMessage { _ = try SafeTensorsFile.read(path: folder.path) }
    #expect(folderMessage.contains(folder.path))
    #expect(folderMessage.contains("not a regular file"))

    let missingPath = folder.path + "/missing.safetensors"
    let missingMessage = ioMessage { _ = try SafeTensorsFile.read(path: missingPath) }
    #expect(missingMessage.contains(missingPath))
    #expect(missingMessage.contains("No such file"))
}
