import Foundation
import PCMoECore

/// The model-size options shared by commands that build a model.
enum ModelOptions {
    /// The help lines of the model options, with the defaults of `base`.
    static func help(defaults base: ModelConfig = ModelConfig()) -> String {
        """
          --config FILE         JSON file with model sizes (any of the keys d_model, n_heads,
                                n_layers, n_experts, top_k, expert_hidden, seq_len; missing
                                keys take the defaults below); flags below override it
          --d-model N           width of the residual stream (default \(base.dModel))
          --heads N             attention heads; d-model / heads must be even (default \(base.heads))
          --layers N            transformer layers (default \(base.layers))
          --experts N           experts per MoE layer (default \(base.experts))
          --top-k N             experts picked per byte, at most --experts (default \(base.topK))
          --expert-hidden N     hidden width of each expert (default \(base.expertHidden))
          --seq-len N           bytes of context per sequence (default \(base.sequence))
        """
    }

    static let names = ["--config", "--d-model", "--heads", "--layers", "--experts", "--top-k",
                        "--expert-hidden", "--seq-len"]

    /// Reads the model options over `base`; sizes are validated later by the model.
    static func parse(_ args: inout Arguments, file: String?, base: ModelConfig = ModelConfig()) throws -> ModelConfig {
        var config = base
        if let file {
            config = try load(file, base: base)
        }
        let fields: [(String, WritableKeyPath<ModelConfig, Int>)] = [
            ("--d-model", \.dModel), ("--heads", \.heads), ("--layers", \.layers), ("--experts", \.experts),
            ("--top-k", \.topK), ("--expert-hidden", \.expertHidden), ("--seq-len", \.sequence),
        ]
        for (name, key) in fields {
            if let value = try args.int(name, in: nil) { config[keyPath: key] = value }
        }
        return config
    }

    /// Reads a config file; keys it lacks keep their values in `base`.
    private static func load(_ path: String, base: ModelConfig) throws -> ModelConfig {
        let data = try readSmallFile(path, limit: 1 << 20, label: "config file")
        do {
            let read = try JSONDecoder().decode(ModelConfig.self, from: data)
            let given = Set(((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?.keys.map { $0 } ?? [])
            var config = base
            let fields: [(String, WritableKeyPath<ModelConfig, Int>)] = [
                ("d_model", \.dModel), ("n_heads", \.heads), ("n_layers", \.layers), ("n_experts", \.experts),
                ("top_k", \.topK), ("expert_hidden", \.expertHidden), ("seq_len", \.sequence),
            ]
            for (key, path) in fields where given.contains(key) { config[keyPath: path] = read[keyPath: path] }
            return config
        } catch let error as PCMoEError {
            throw PCMoEError.invalidArgument("the config file \(path) is invalid: \(error.message)")
        } catch {
            let keys = ModelConfig.keyNames.joined(separator: ", ")
            throw PCMoEError.invalidArgument(
                "the config file \(path) is invalid: it must be a JSON object whose values are integers, with any of the keys \(keys).")
        }
    }
}
