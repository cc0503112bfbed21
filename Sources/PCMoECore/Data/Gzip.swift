import CZlib

/// Decompression of gzip data with zlib, including multi-member files and
/// Debian's dictzip (`.dz`) files, which are gzip with an extra header field.
enum Gzip {
    /// Returns true when `bytes` starts with the gzip magic bytes 1f 8b.
    static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Decompresses every member of `compressed` and returns the concatenated content.
    ///
    /// zlib checks each member's CRC-32 and length trailer.
    /// - Throws: ``PCMoEError/invalidData(_:)`` naming `path` when the data is
    ///   corrupt, fails its check, ends early or is followed by data that is not gzip.
    static func decompress(_ compressed: [UInt8], path: String) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS selects the gzip wrapper with the largest window.
        let status = inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw PCMoEError.invalidData("Cannot start zlib to decompress \(path) (zlib status \(status)).")
        }
        defer { inflateEnd(&stream) }

        return try compressed.withUnsafeBufferPointer { input in
            try inflateMembers(&stream, input: input, path: path)
        }
    }

    /// Runs `inflate` over all of `input`, restarting after each member that
    /// ends while input remains.
    private static func inflateMembers(_ stream: inout z_stream, input: UnsafeBufferPointer<UInt8>,
                                       path: String) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(sizeHint(input))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var fedBytes = 0

        while true {
            // avail_in is 32 bits wide, so very large inputs are fed in pieces.
            if stream.avail_in == 0 && fedBytes < input.count {
                let piece = min(input.count - fedBytes, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + fedBytes)
                stream.avail_in = UInt32(piece)
                fedBytes += piece
            }
            let inputLeft = stream.avail_in > 0 || fedBytes < input.count

            let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            guard output.count <= Corpus.maxBytes else { throw CorpusFileSystem.tooLarge(path) }

            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                let moreInput = stream.avail_in > 0 || fedBytes < input.count
                if !moreInput { return output }
                inflateReset(&stream)
            case Z_BUF_ERROR where !inputLeft:
                throw PCMoEError.invalidData(
                    "Gzip file \(path) is truncated: it ends in the middle of compressed data; "
                        + "replace it with a complete copy.")
            default:
                throw corruptError(path: path, stream: stream, status: status)
            }
        }
    }

    /// Returns an estimate of the decompressed size for reserving memory.
    ///
    /// The last 4 bytes of a member store its uncompressed length modulo 2^32,
    /// which is exact for a single member under 4 GiB.
    private static func sizeHint(_ input: UnsafeBufferPointer<UInt8>) -> Int {
        guard input.count >= 4 else { return 0 }
        let trailer = input[(input.count - 4)...].reversed().reduce(0) { $0 << 8 | Int($1) }
        return min(max(trailer, input.count), Corpus.maxBytes)
    }

    /// Builds the error for a failed `inflate`, quoting zlib's message when it gives one.
    private static func corruptError(path: String, stream: z_stream, status: Int32) -> PCMoEError {
        let detail = stream.msg.map { String(cString: $0) } ?? "status \(status)"
        return PCMoEError.invalidData(
            "Gzip file \(path) is corrupt (zlib: \(detail)); replace it with an intact copy.")
    }
}
