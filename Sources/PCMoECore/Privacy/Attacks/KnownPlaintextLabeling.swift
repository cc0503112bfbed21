/// Labels symbols (k-means clusters or routing patterns) with bytes from a
/// known-plaintext subset: rows whose true byte the attacker has.
///
/// Each symbol with at least one known row gets the most common byte among
/// its known rows, the lower byte value on a tie. The other symbols get
/// ``FrequencyLabeling`` over the bytes that no known-row label uses.
public enum KnownPlaintextLabeling {
    /// Returns one byte per symbol, indexed by symbol id.
    ///
    /// - Parameters:
    ///   - symbols: the symbol of every row.
    ///   - symbolCount: the number of symbols; every entry of `symbols` is below it.
    ///   - known: the true byte of some rows, keyed by row index into `symbols`.
    ///   - reference: 256 byte frequencies for the fallback, as in
    ///     ``FrequencyLabeling/labels(sizes:reference:fixed:)``. Without a
    ///     public table, ``byteFrequencies(of:)`` of the known bytes serves.
    /// - Precondition: every key of `known` is an index of `symbols`, and every
    ///   symbol is in 0 ..< `symbolCount`.
    public static func labels(symbols: [Int], symbolCount: Int, known: [Int: UInt8], reference: [Double]) -> [UInt8] {
        let sizes = symbolCounts(symbols, symbolCount: symbolCount)
        var votes = [[Int]](repeating: [], count: symbolCount)
        for (row, byte) in known {
            precondition(symbols.indices.contains(row), "known plaintext: row \(row) is outside 0 ..< \(symbols.count)")
            let symbol = symbols[row]
            if votes[symbol].isEmpty { votes[symbol] = [Int](repeating: 0, count: 256) }
            votes[symbol][Int(byte)] += 1
        }

        var fixed: [Int: UInt8] = [:]
        for (symbol, counts) in votes.enumerated() where !counts.isEmpty {
            // max(by:) keeps the first of equal maxima, which is the lower byte value.
            fixed[symbol] = UInt8(counts.indices.max { counts[$0] < counts[$1] }!)
        }
        return FrequencyLabeling.labels(sizes: sizes, reference: reference, fixed: fixed)
    }
}
