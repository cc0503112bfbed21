import Foundation

/// The parties of a network session: for each, its id, the ZeroMQ endpoint
/// it binds, and its CURVE public key. The file is the allow-list: only
/// these keys may connect, and each key speaks only for its own party.
///
/// ```json
/// {"session": 42,
///  "parties": [{"id": 0, "endpoint": "tcp://127.0.0.1:5550", "public_key": "<40 Z85 characters>"}, ...]}
/// ```
public struct Deployment: Equatable, Sendable {
    /// One party's entry.
    public struct Member: Equatable, Sendable {
        /// The party id, 0 ..< party count.
        public var id: Int
        /// The endpoint the party binds and the others connect to, such as tcp://127.0.0.1:5550.
        public var endpoint: String
        /// The party's CURVE public key, as 40 characters of Z85 text.
        public var publicKey: String

        /// Creates an entry from its parts.
        public init(id: Int, endpoint: String, publicKey: String) {
            self.id = id
            self.endpoint = endpoint
            self.publicKey = publicKey
        }
    }

    /// The session id every party uses.
    public var session: UInt64
    /// The parties, by id.
    public var members: [Member]

    /// Creates a deployment from its parts and checks it.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` for ids that are not
    ///   0 ..< n in order, a repeated endpoint or key, an invalid key, or session 0.
    public init(session: UInt64, members: [Member]) throws {
        self.session = session
        self.members = members
        try validate()
    }

    private func validate() throws {
        guard session != 0 else { throw PCMoEError.invalidArgument("the deployment's session is 0; pick any other value.") }
        guard (1...PartySettings.maxParties).contains(members.count) else {
            throw PCMoEError.invalidArgument("the deployment lists \(members.count) parties; it must list 1 to \(PartySettings.maxParties).")
        }
        for (index, member) in members.enumerated() {
            guard member.id == index else {
                throw PCMoEError.invalidArgument("the deployment's party at position \(index) has id \(member.id); list the parties by id from 0.")
            }
            let port = member.endpoint.split(separator: ":").last.flatMap { Int($0) }
            guard member.endpoint.hasPrefix("tcp://"), let port, (1...65535).contains(port) else {
                throw PCMoEError.invalidArgument("party \(member.id)'s endpoint \(member.endpoint) is not tcp://HOST:PORT "
                                                     + "with a port from 1 to 65535, which the other parties can connect to.")
            }
            try CurveKeyPair.checkKey(member.publicKey, what: "the public key of party \(member.id)")
        }
        if Set(members.map(\.endpoint)).count != members.count {
            throw PCMoEError.invalidArgument("two parties of the deployment share an endpoint; give each its own.")
        }
        if Set(members.map(\.publicKey)).count != members.count {
            throw PCMoEError.invalidArgument("two parties of the deployment share a public key; give each its own key pair.")
        }
    }

    /// Returns the party whose public key is `key`, if any.
    public func party(withKey key: String) -> Int? {
        members.firstIndex { $0.publicKey == key }
    }
}

extension Deployment {
    /// Reads a deployment file (the JSON shown on ``Deployment``). A
    /// `public_key_file` entry, relative to the file's folder, may stand in
    /// for `public_key`. Unknown keys are refused, so a misspelt one is
    /// never ignored.
    /// - Throws: ``PCMoEError/io(_:)`` when the file cannot be read, and
    ///   ``PCMoEError/invalidArgument(_:)`` naming the file and the first bad entry.
    public static func load(path: String) throws -> Deployment {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw PCMoEError.io("the deployment file \(path) cannot be read, or is larger than 1 MiB.")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            let file = try JSONDecoder().decode(DeploymentFile.self, from: data)
            let members = try file.parties.enumerated().map { index, entry in
                try entry.member(index: index, folder: folder)
            }
            return try Deployment(session: file.session, members: members)
        } catch let error as PCMoEError {
            throw PCMoEError.invalidArgument("the deployment file \(path) is invalid: \(error.message)")
        } catch let error as DecodingError {
            throw PCMoEError.invalidArgument("the deployment file \(path) is invalid: \(decodingErrorSentence(error))")
        } catch {
            throw PCMoEError.invalidArgument("the deployment file \(path) is not valid JSON: \(error.localizedDescription)")
        }
    }
}

/// The file's top level.
private struct DeploymentFile: Decodable {
    var session: UInt64
    var parties: [PartyEntry]

    enum CodingKeys: String, CodingKey, CaseIterable { case session, parties }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "the top level")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let session = try c.decodeInteger(UInt64.self, forKey: .session) else {
            throw PCMoEError.invalidArgument("it needs a \"session\" number.")
        }
        self.session = session
        parties = try c.decode([PartyEntry].self, forKey: .parties)
    }
}

/// One entry of `parties`.
private struct PartyEntry: Decodable {
    var id: Int
    var endpoint: String
    var publicKey: String?
    var publicKeyFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, endpoint, publicKey = "public_key", publicKeyFile = "public_key_file"
    }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "a party entry")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let id = try c.decodeInteger(Int.self, forKey: .id) else {
            throw PCMoEError.invalidArgument("a party entry needs an \"id\".")
        }
        self.id = id
        endpoint = try c.decode(String.self, forKey: .endpoint)
        publicKey = try c.decodeIfPresent(String.self, forKey: .publicKey)
        publicKeyFile = try c.decodeIfPresent(String.self, forKey: .publicKeyFile)
    }

    func member(index: Int, folder: URL) throws -> Deployment.Member {
        switch (publicKey, publicKeyFile) {
        case (let key?, nil):
            return Deployment.Member(id: id, endpoint: endpoint, publicKey: key)
        case (nil, let file?):
            let keyPath = file.hasPrefix("/") ? file : folder.appendingPathComponent(file).path
            return Deployment.Member(id: id, endpoint: endpoint, publicKey: try CurveKeyPair.readPublicKey(keyPath))
        case (nil, nil):
            throw PCMoEError.invalidArgument("party \(id) needs a \"public_key\" or a \"public_key_file\".")
        case (_?, _?):
            throw PCMoEError.invalidArgument("party \(id) has both \"public_key\" and \"public_key_file\"; give one.")
        }
    }
}
