import Foundation
import PCMoECore

/// The privacy settings of a restored party that routes its own text:
/// row noise and own-expert routing, as `pcmoe party` takes them. A
/// checkpoint does not keep them, so `score` and `generate` take them again.
struct DefenseOptions {
    var sigma: Double?
    var clip: Double?
    var ownExpertLayers: Int?

    static let help = """
        Privacy of the rows this party sends (with a party's model; give the values it trained with):
          --row-noise SIGMA     Gaussian noise per value on sent rows, after clipping (default none)
          --row-clip X          L2 norm sent rows are clipped to (default sqrt(d_model) with --row-noise)
          --own-expert-layers N route the first N layers only to this party's own experts (default 0)
        """

    /// Reads the three options. With `layers`, --own-expert-layers must be
    /// at most that; without, ``apply(_:config:)`` checks it against the model.
    static func parse(_ args: inout Arguments, layers: Int? = nil) throws -> DefenseOptions {
        var options = DefenseOptions()
        options.sigma = try args.double("--row-noise")
        options.clip = try args.double("--row-clip")
        options.ownExpertLayers = try args.int("--own-expert-layers", in: 0...(layers ?? Int.max))
        if let sigma = options.sigma, !(0...RowNoise.maxSigma).contains(sigma) {
            throw UsageError(message: "--row-noise expects a standard deviation from 0 to \(Int(RowNoise.maxSigma)), got '\(sigma)'.")
        }
        if let clip = options.clip, clip <= 0 {
            throw UsageError(message: "--row-clip expects a norm above 0, got '\(clip)'.")
        }
        return options
    }

    /// Returns the row noise the options give for a model with `config`: on
    /// when either --row-noise or --row-clip is given, with the clip norm
    /// sqrt(d_model) by default, near the norm of a row after RMSNorm. The
    /// noise seed is drawn at random so that peers cannot regenerate the noise.
    func rowNoise(config: ModelConfig) -> RowNoise? {
        guard sigma != nil || clip != nil else { return nil }
        return RowNoise(clipNorm: clip ?? Double(config.dModel).squareRoot(), sigma: sigma ?? 0)
    }

    /// Rejects the options for a one-process model, which sends nothing.
    func check(for source: ModelSource) throws {
        guard case .file = source else { return }
        let named = [sigma != nil ? "--row-noise" : nil, clip != nil ? "--row-clip" : nil,
                     ownExpertLayers != nil ? "--own-expert-layers" : nil].compactMap { $0 }
        if let first = named.first { throw UsageError(message: "\(first) applies to a party's model, not to --model.") }
    }

    /// Sets the options on a party of a model with `config`.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for an own-expert layer count the party cannot serve.
    func apply(_ settings: inout PartySettings, config: ModelConfig) throws {
        if let noise = rowNoise(config: config) { settings.rowNoise = noise }
        if let ownExpertLayers {
            settings.ownExpertLayers = ownExpertLayers
            try settings.validateOwnExpertLayers(for: config, name: "--own-expert-layers")
        }
    }
}
