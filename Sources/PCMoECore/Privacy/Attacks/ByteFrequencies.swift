/// Returns the share of each byte value 0 ... 255 in `bytes`: 256 values that
/// sum to 1, or all zeros when `bytes` is empty.
public func byteFrequencies<Bytes: Sequence>(of bytes: Bytes) -> [Double] where Bytes.Element == UInt8 {
    var counts = [Int](repeating: 0, count: 256)
    var total = 0
    for byte in bytes {
        counts[Int(byte)] += 1
        total += 1
    }
    guard total > 0 else { return [Double](repeating: 0, count: 256) }
    return counts.map { Double($0) / Double(total) }
}

/// Returns how often each symbol 0 ..< `symbolCount` occurs in `symbols`.
///
/// A symbol is a discrete id given to a row: a k-means cluster or a
/// ``RoutingSymbols`` pattern id.
/// - Precondition: every symbol is in 0 ..< `symbolCount`.
public func symbolCounts(_ symbols: [Int], symbolCount: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: symbolCount)
    for symbol in symbols {
        precondition(symbol >= 0 && symbol < symbolCount, "symbol \(symbol) is outside 0 ..< \(symbolCount)")
        counts[symbol] += 1
    }
    return counts
}
