/// Labels symbols (k-means clusters or routing patterns) with bytes by
/// frequency rank, as a frequency-analysis attack on a substitution cipher.
///
/// The rule, for symbols not given a fixed label:
/// 1. Symbols are ranked by size, largest first. Equal sizes go to the lower symbol id first.
/// 2. Bytes are ranked by reference frequency, most frequent first, leaving
///    out the bytes that a fixed label already uses. Equal frequencies go to
///    the lower byte value first.
/// 3. The symbol of rank r gets the byte of rank r.
/// 4. Once the bytes run out, each further symbol, in size order, gets the
///    byte whose expected row count (reference share × total rows) exceeds
///    the rows already labelled with it by the most. Such a symbol is usually
///    a second cluster of a frequent byte. Ties go to the byte ranked first in step 2.
///
/// With at most 256 symbols and no fixed labels only step 3 applies.
public enum FrequencyLabeling {
    /// Returns one byte per symbol, indexed by symbol id.
    ///
    /// - Parameters:
    ///   - sizes: the number of rows of each symbol.
    ///   - reference: 256 non-negative byte frequencies, for example from
    ///     ``byteFrequencies(of:)`` of public text. Their scale does not matter.
    ///   - fixed: labels already decided, by symbol id; these symbols keep them.
    /// - Precondition: `reference` has 256 finite, non-negative entries and
    ///   every key of `fixed` is a symbol id.
    public static func labels(sizes: [Int], reference: [Double], fixed: [Int: UInt8] = [:]) -> [UInt8] {
        precondition(reference.count == 256, "frequency labeling: \(reference.count) reference frequencies, expected 256")
        precondition(reference.allSatisfy { $0.isFinite && $0 >= 0 }, "frequency labeling: invalid reference frequency")
        precondition(fixed.keys.allSatisfy { sizes.indices.contains($0) }, "frequency labeling: fixed label of no symbol")

        let byteRanking = (0..<256).sorted { reference[$0] > reference[$1] || (reference[$0] == reference[$1] && $0 < $1) }
        let usedBytes = Set(fixed.values.map(Int.init))
        let freeBytes = byteRanking.filter { !usedBytes.contains($0) }
        let freeSymbols = sizes.indices.filter { fixed[$0] == nil }
            .sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }

        var labels = [UInt8](repeating: 0, count: sizes.count)
        for (symbol, byte) in fixed { labels[symbol] = byte }
        for (rank, symbol) in freeSymbols.prefix(freeBytes.count).enumerated() {
            labels[symbol] = UInt8(freeBytes[rank])
        }
        let overflow = Array(freeSymbols.dropFirst(freeBytes.count))
        guard !overflow.isEmpty else { return labels }

        var remaining = expectedRowCounts(sizes: sizes, reference: reference)
        let overflowSet = Set(overflow)
        for symbol in sizes.indices where !overflowSet.contains(symbol) {
            remaining[Int(labels[symbol])] -= Double(sizes[symbol])
        }
        for symbol in overflow {
            let byte = byteRanking.max { remaining[$0] < remaining[$1] }!
            labels[symbol] = UInt8(byte)
            remaining[byte] -= Double(sizes[symbol])
        }
        return labels
    }

    /// Returns one byte per symbol, indexed by symbol id, where several
    /// symbols may share a byte. Each symbol, largest first, gets the byte
    /// whose expected row count (reference share × total rows) exceeds the
    /// rows already labelled with it by the most. Ties go to the more
    /// frequent reference byte, then the lower byte value.
    ///
    /// This suits clusterings that split frequent bytes into several
    /// clusters, where the one-to-one rule of ``labels(sizes:reference:fixed:)``
    /// would give the second cluster of a space another byte.
    /// - Precondition: as ``labels(sizes:reference:fixed:)``.
    public static func sharedLabels(sizes: [Int], reference: [Double]) -> [UInt8] {
        precondition(reference.count == 256, "frequency labeling: \(reference.count) reference frequencies, expected 256")
        precondition(reference.allSatisfy { $0.isFinite && $0 >= 0 }, "frequency labeling: invalid reference frequency")
        let byteRanking = (0..<256).sorted { reference[$0] > reference[$1] || (reference[$0] == reference[$1] && $0 < $1) }
        let symbols = sizes.indices.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        var remaining = expectedRowCounts(sizes: sizes, reference: reference)
        var labels = [UInt8](repeating: 0, count: sizes.count)
        for symbol in symbols {
            let byte = byteRanking.max { remaining[$0] < remaining[$1] }!
            labels[symbol] = UInt8(byte)
            remaining[byte] -= Double(sizes[symbol])
        }
        return labels
    }

    /// Returns the predicted byte of each row: the label of its symbol.
    public static func bytes(symbols: [Int], labels: [UInt8]) -> [UInt8] {
        symbols.map { labels[$0] }
    }

    /// Returns the rows each byte would have if all rows followed `reference`.
    private static func expectedRowCounts(sizes: [Int], reference: [Double]) -> [Double] {
        let total = Double(sizes.reduce(0, +))
        let sum = reference.reduce(0, +)
        guard sum > 0 else { return [Double](repeating: 0, count: 256) }
        return reference.map { $0 / sum * total }
    }
}
