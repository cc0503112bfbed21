import Foundation
import PCMoECore

/// The model-size options shared by commands that build a model.
enum ModelOptions {
    static let help = """
          --config FILE         JSON file with model sizes (any of the keys d_model, n_heads,
                                n_layers, n_experts, top_k, expert_hidden, seq_len; missing
                                keys take the defaults below); flags below override it
          --d-model N           width of the residual stream (default 256)
          --heads N             attention heads; d-model / heads must be even (default 4)
          --layers N            transformer layers (default 4)
          --experts N           experts per MoE layer (default 8)
          --top-k N             experts picked per byte, at most --experts (default 2)
          --expert-hidden N     hidden width of each expert (default 512)
          --seq-len N           bytes of context per sequence (default 128)
        """

    static let names = ["--config", "--d-model", "--heads", "--layers", "--experts", "--top-k",
                        "--expert-hidden", "--seq-len"]

    /// Reads the model options over `base`; sizes are validated later by the model.
    static func parse(_ args: inout Arguments, file: String?, base: ModelConfig = ModelConfig()) throws -> ModelConfig {
        var config = base
        if let file {
            config = try load(file)
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

    private static func load(_ path: String) throws -> ModelConfig {
        let data = try readSmallFile(path, limit: 1 << 20, label: "config file")
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as PCMoEError {
            throw PCMoEError.invalidArgument("the config file \(path) is invalid: \(error.message)")
        } catch {
            let keys = ModelConfig.keyNames.joined(separator: ", ")
            throw PCMoEError.invalidArgument(
                "the config file \(path) is invalid: it must be a JSON object whose values are integers, with any of the keys \(keys).")
        }
    }
}
