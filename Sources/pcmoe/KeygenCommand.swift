import Foundation
import PCMoECore

enum KeygenCommand {
    static let help = """
        Usage: pcmoe keygen --out PREFIX

        Makes a CURVE key pair for one party of a network session. Writes the key
        pair to PREFIX.key, readable by its owner only (mode 0600), and the public
        key to PREFIX.pub, which goes into the other parties' deployment file.
        Existing files are never replaced.

          --out PREFIX          path and name of the two files, without extension (required)
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let prefix = try args.required("--out")
        try args.finish()

        let keys = try CurveKeyPair.generate()
        try keys.write(prefix: prefix)
        print("wrote \(prefix).key (secret, mode 0600) and \(prefix).pub (public key \(keys.publicKey))")
    }
}
