import Foundation

/// A coding key for any name, to find keys a type does not know.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer {
    /// Decodes an integer through `Decimal`, so that a fraction or an
    /// out-of-range number gets a message naming its key. Foundation's own
    /// integer decoding reports those as invalid JSON without a key.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for a number that is not
    ///   an integer of type `T`, and `DecodingError` for a value that is not a number.
    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let number = try decodeIfPresent(Decimal.self, forKey: key) else { return nil }
        guard let value = T(number.description) else {
            let parts: [String] = (codingPath + [key]).map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }
            let path = String(parts.joined(separator: "").drop { $0 == "." })
            throw PCMoEError.invalidArgument("\"\(path)\" is \(number); it must be an integer from \(T.min) to \(T.max).")
        }
        return value
    }
}

extension ModelConfig {
    /// Decodes a configuration in which every key is optional and takes its
    /// default when missing.
    ///
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` naming an unknown key, so a
    ///   misspelt size is never ignored, and `DecodingError` for a value that
    ///   is not an integer.
    public init(from decoder: Decoder) throws {
        self.init()
        let all = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in all.allKeys where CodingKeys(stringValue: key.stringValue) == nil {
            let known = Self.keyNames.joined(separator: ", ")
            throw PCMoEError.invalidArgument("unknown model configuration key \"\(key.stringValue)\"; the keys are \(known).")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let fields: [(CodingKeys, WritableKeyPath<ModelConfig, Int>)] = [
            (.dModel, \.dModel), (.heads, \.heads), (.layers, \.layers), (.experts, \.experts),
            (.topK, \.topK), (.expertHidden, \.expertHidden), (.sequence, \.sequence),
        ]
        // A present key must hold an integer: null is an error, not the default.
        for (key, path) in fields where c.contains(key) {
            guard let value = try c.decodeInteger(Int.self, forKey: key) else {
                throw PCMoEError.invalidArgument("\"\(key.stringValue)\" is null; give an integer or leave the key out.")
            }
            self[keyPath: path] = value
        }
    }

    /// The JSON keys, in the order of the fields.
    public static let keyNames = ["d_model", "n_heads", "n_layers", "n_experts", "top_k", "expert_hidden", "seq_len"]
}
