import Foundation

/// A training text as raw bytes, split into a training part and a validation part.
///
/// The split is by position in load order: the last tenth of the bytes
/// (rounded down) is the validation part, and everything before it is the
/// training part. Build one with ``load(paths:warn:)``.
public struct Corpus: Sendable {
    /// The largest corpus, in bytes after decompression, that loading accepts:
    /// 1 GiB. A corpus is held in memory whole, so this bounds what a
    /// compressed file or a sparse file can make the loader allocate.
    public static let maxBytes = 1 << 30

    /// The paths the corpus was loaded from, joined with ", ", for messages.
    public let name: String
    /// The content of every loaded file, decompressed and concatenated in load order.
    public let bytes: [UInt8]

    /// Creates a corpus from `bytes` already in memory, with `name` for messages.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// The number of bytes in ``validation``: a tenth of the total, rounded down.
    var validationCount: Int { bytes.count / 10 }

    /// The bytes before ``validation``.
    public var train: ArraySlice<UInt8> { bytes[..<(bytes.count - validationCount)] }

    /// The last `bytes.count / 10` bytes.
    public var validation: ArraySlice<UInt8> { bytes[(bytes.count - validationCount)...] }

    /// Checks that both splits hold at least `sequenceBytes` bytes, so that a
    /// window of that length can be drawn from each.
    ///
    /// - Throws: ``PCMoEError/invalidData(_:)`` naming the corpus, both split
    ///   sizes and the needed length when either split is shorter.
    public func requireLength(_ sequenceBytes: Int) throws {
        guard train.count < sequenceBytes || validation.count < sequenceBytes else { return }

        throw PCMoEError.invalidData(
            "Corpus \(name) is too short: its training split has \(train.count) bytes and its "
                + "validation split \(validation.count) bytes, but each needs at least "
                + "\(sequenceBytes); add more text or use a shorter sequence length.")
    }

    /// Computes the Shannon entropy, in bits per byte, of the byte frequencies in `bytes`.
    ///
    /// Returns 0 for an empty slice and 8 for a slice in which all 256 byte values are equally frequent.
    public static func unigramEntropyBits(_ bytes: ArraySlice<UInt8>) -> Double {
        guard !bytes.isEmpty else { return 0 }

        var counts = [Int](repeating: 0, count: 256)
        for byte in bytes {
            counts[Int(byte)] += 1
        }

        let total = Double(bytes.count)
        var entropy = 0.0
        for count in counts where count > 0 {
            let probability = Double(count) / total
            entropy -= probability * log2(probability)
        }
        return entropy
    }
}
