/// A coding key for any name, to find keys a type does not know.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
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
            self[keyPath: path] = try c.decode(Int.self, forKey: key)
        }
    }

    /// The JSON keys, in the order of the fields.
    public static let keyNames = ["d_model", "n_heads", "n_layers", "n_experts", "top_k", "expert_hidden", "seq_len"]
}
