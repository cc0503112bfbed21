import Foundation

#if !_endian(little)
#error("SafeTensors writes and reads tensor memory as little-endian float32 without conversion.")
#endif

/// Writing of safetensors files: float32 tensors and string metadata.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON,
/// then the data region. The JSON maps each tensor name to
/// `{"dtype":"F32","shape":[...],"data_offsets":[begin,end]}`, with offsets
/// relative to the data region, plus an optional `"__metadata__"` object of
/// strings. Data is little-endian float32 in row-major order.
/// ``SafeTensorsFile`` reads such files.
public enum SafeTensors {
    /// The largest header accepted on reading and produced on writing, in bytes.
    static let maxHeaderBytes = 16 << 20

    /// The reserved header key for metadata.
    static let metadataKey = "__metadata__"

    /// Writes `tensors` and `metadata` to `path`, replacing any file there atomically.
    ///
    /// Tensors are laid out in the order given, contiguous and without gaps,
    /// and the header is padded with spaces so that the data region starts at
    /// a multiple of 8 bytes. The file is written to `<path>.tmp.<pid>` in
    /// the same folder, synced, renamed over `path`, and then the folder is
    /// synced. On failure the temporary file is removed and an existing file
    /// at `path` is left as it was.
    ///
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a duplicate or reserved
    ///   tensor name or an oversized header, and ``PCMoEError/io(_:)`` naming
    ///   the path and the system error when a file operation fails.
    public static func write(path: String, tensors: [(name: String, tensor: Tensor)],
                             metadata: [String: String]) throws {
        let header = try encodeHeader(tensors: tensors, metadata: metadata)
        let temporaryPath = "\(path).tmp.\(getpid())"

        try SafeTensorsIO.writeThenRename(temporaryPath: temporaryPath, path: path) { file in
            try file.write(lengthPrefix(header.count))
            try file.write(header)
            for (_, tensor) in tensors {
                try file.write(UnsafeRawBufferPointer(start: tensor.data, count: tensor.byteCount))
            }
        }
    }

    /// Returns the 8 little-endian bytes of a header length.
    private static func lengthPrefix(_ length: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt64(length).littleEndian) { Array($0) }
    }

    /// Returns the JSON header, padded with spaces so that 8 + its length is a multiple of 8.
    static func encodeHeader(tensors: [(name: String, tensor: Tensor)],
                             metadata: [String: String]) throws -> [UInt8] {
        var object: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in tensors {
            if name == metadataKey || object[name] != nil {
                throw PCMoEError.invalidArgument(
                    "Tensor name \"\(name)\" is reserved or used twice; give each tensor a unique name.")
            }
            object[name] = [
                "dtype": "F32",
                "shape": tensor.shape,
                "data_offsets": [offset, offset + tensor.byteCount],
            ] as [String: Any]
            offset += tensor.byteCount
        }
        if !metadata.isEmpty {
            object[metadataKey] = metadata
        }

        var header = [UInt8](try JSONSerialization.data(withJSONObject: object,
                                                        options: [.sortedKeys, .withoutEscapingSlashes]))
        let padding = (8 - (8 + header.count) % 8) % 8
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))

        guard header.count <= maxHeaderBytes else {
            throw PCMoEError.invalidArgument(
                "The safetensors header for \(tensors.count) tensors would take \(header.count) bytes, "
                    + "over the \(maxHeaderBytes)-byte limit; use fewer tensors or shorter names and metadata.")
        }
        return header
    }
}
