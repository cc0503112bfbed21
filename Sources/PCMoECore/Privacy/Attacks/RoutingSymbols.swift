/// The experts of one owner that a token was routed to, layer by layer, in a
/// canonical form.
///
/// Each layer's expert ids are sorted without repeats. The layers after the
/// last one that has an expert are dropped, so an absent layer and an empty
/// one give the same pattern.
public struct RoutingPattern: Hashable, Sendable, CustomStringConvertible {
    /// The expert ids per layer, from layer 0.
    public let layers: [[Int]]

    /// Creates the canonical pattern of `layers`: entry l lists the owner's experts that the token chose at layer l.
    public init(_ layers: [[Int]]) {
        var canonical = layers.map { Array(Set($0)).sorted() }
        while canonical.last?.isEmpty == true { canonical.removeLast() }
        self.layers = canonical
    }

    /// The layers joined by "|", each a comma-separated list of expert ids, for example "0,3||1".
    public var description: String {
        layers.map { $0.map(String.init).joined(separator: ",") }.joined(separator: "|")
    }
}

/// A table that gives each distinct ``RoutingPattern`` a symbol, so that the
/// routing an owner sees can be labelled like k-means clusters with
/// ``FrequencyLabeling`` or ``KnownPlaintextLabeling``.
///
/// Symbols are 0, 1, 2, … in the order in which patterns are first added,
/// so the same sequence of patterns always gives the same symbols.
public struct RoutingSymbols: Sendable {
    /// The distinct patterns, indexed by symbol.
    public private(set) var patterns: [RoutingPattern] = []
    private var symbolsByPattern: [RoutingPattern: Int] = [:]

    /// Creates an empty table.
    public init() {}

    /// Creates a table from the tokens of `tokens` in order; see ``symbols(for:)``.
    public init(tokens: [[[Int]]]) {
        _ = symbols(for: tokens)
    }

    /// The number of distinct patterns.
    public var count: Int { patterns.count }

    /// Returns the symbol of a token's routing, `layers` as in ``RoutingPattern/init(_:)``,
    /// adding the pattern to the table when it is new.
    public mutating func symbol(for layers: [[Int]]) -> Int {
        let pattern = RoutingPattern(layers)
        if let symbol = symbolsByPattern[pattern] { return symbol }
        symbolsByPattern[pattern] = patterns.count
        patterns.append(pattern)
        return patterns.count - 1
    }

    /// Returns the symbol of each token, adding new patterns in token order.
    public mutating func symbols(for tokens: [[[Int]]]) -> [Int] {
        tokens.map { symbol(for: $0) }
    }

    /// Returns the symbol of a token's routing, or nil when the pattern is not in the table.
    public func existingSymbol(for layers: [[Int]]) -> Int? {
        symbolsByPattern[RoutingPattern(layers)]
    }
}
