import CZMQ
import Foundation

/// A CURVE key pair for ZeroMQ, each key as 40 characters of Z85 text.
///
/// A key pair file contains both keys and must be readable by its owner
/// only. A public key file contains the public key alone, which the other
/// parties put in their deployment file.
public struct CurveKeyPair: Equatable, Sendable {
    /// The public key, shared with the other parties.
    public let publicKey: String
    /// The secret key; never logged or sent.
    public let secretKey: String

    /// Creates a key pair from its two Z85 keys.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when a key is not 40 Z85 characters.
    public init(publicKey: String, secretKey: String) throws {
        try Self.checkKey(publicKey, what: "the public key")
        try Self.checkKey(secretKey, what: "the secret key")
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Draws a new key pair from libzmq's random source.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when libzmq was built without CURVE.
    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else {
            throw PCMoEError.invalidArgument("libzmq cannot make CURVE keys (zmq_curve_keypair failed: "
                                                 + "\(String(cString: zmq_strerror(zmq_errno()))).")
        }
        return try CurveKeyPair(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    /// Checks that `key` is 40 characters of the Z85 alphabet.
    static func checkKey(_ key: String, what: String) throws {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
        guard key.count == 40, key.allSatisfy(alphabet.contains) else {
            throw PCMoEError.invalidArgument("\(what) is not a CURVE key: it must be 40 characters of Z85 text.")
        }
    }

    /// Writes the key pair to `prefix.key` (mode 0600) and the public key to
    /// `prefix.pub`. Refuses to replace existing files.
    /// - Throws: ``PCMoEError/io(_:)`` when a file exists or cannot be written.
    public func write(prefix: String) throws {
        for path in [prefix + ".key", prefix + ".pub"] where FileManager.default.fileExists(atPath: path) {
            throw PCMoEError.io("\(path) already exists; remove it or pick another name, so no key is replaced by mistake.")
        }
        let secretText = "# pcmoe CURVE key pair. Keep this file private: it must stay readable by its owner only.\n"
            + "public-key = \(publicKey)\nsecret-key = \(secretKey)\n"
        try Self.create(prefix + ".key", secretText, mode: 0o600)
        try Self.create(prefix + ".pub", "public-key = \(publicKey)\n", mode: 0o644)
    }

    private static func create(_ path: String, _ text: String, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            if errno == EEXIST {
                throw PCMoEError.io("\(path) already exists; remove it or pick another name, so no key is replaced by mistake.")
            }
            throw PCMoEError.io("cannot create \(path): \(String(cString: strerror(errno))).")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard Foundation.write(descriptor, bytes, bytes.count) == bytes.count, fchmod(descriptor, mode) == 0 else {
            throw PCMoEError.io("writing \(path) failed: \(String(cString: strerror(errno))).")
        }
    }

    /// Reads a key pair file written by ``write(prefix:)``.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when the file is a
    ///   public key file, can be read by its group or by others, or holds
    ///   no valid key pair (a secret key whose public key is not the one
    ///   beside it included), and ``PCMoEError/io(_:)`` when it cannot be read.
    public static func read(keyFile path: String) throws -> CurveKeyPair {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PCMoEError.io("cannot read the key file \(path): \(String(cString: strerror(errno))).")
        }
        let fields = try keyFields(path)
        guard let secretKey = fields["secret-key"] else {
            throw PCMoEError.invalidArgument("the key file \(path) has no secret-key line; give the .key file that "
                                                 + "'pcmoe keygen' wrote, not the .pub file.")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw PCMoEError.invalidArgument(
                "the key file \(path) is readable by its group or by others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run chmod 600 on it, and make a new key pair if others may have read it.")
        }
        guard let publicKey = fields["public-key"] else {
            throw PCMoEError.invalidArgument("the key file \(path) has no public-key line.")
        }
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
        } catch let error as PCMoEError {
            throw PCMoEError.invalidArgument("the key file \(path): \(error.message)")
        }
        var derived = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&derived, secretKey) == 0, String(cString: derived) == publicKey else {
            throw PCMoEError.invalidArgument("the key file \(path) contains a public key that does not belong to its "
                                                 + "secret key; make a new key pair with 'pcmoe keygen'.")
        }
        return pair
    }

    /// Reads the public key from a `.pub` or `.key` file.
    public static func readPublicKey(_ path: String) throws -> String {
        guard let key = try keyFields(path)["public-key"] else {
            throw PCMoEError.invalidArgument("the key file \(path) has no public-key line.")
        }
        try checkKey(key, what: "the public key in \(path)")
        return key
    }

    /// Reads the `name = value` lines of a key file; lines starting with #
    /// are comments, and a line may end with CR LF.
    private static func keyFields(_ path: String) throws -> [String: String] {
        guard access(path, R_OK) == 0 else {
            throw PCMoEError.io("cannot read the key file \(path): \(String(cString: strerror(errno))).")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4096,
              let text = String(data: data, encoding: .utf8) else {
            throw PCMoEError.io("the key file \(path) is not a UTF-8 text file of at most 4 KiB.")
        }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard parts.count == 2 else { continue }
            guard fields[parts[0]] == nil else {
                throw PCMoEError.invalidArgument("the key file \(path) has two \(parts[0]) lines; keep one.")
            }
            fields[parts[0]] = parts[1]
        }
        return fields
    }
}
