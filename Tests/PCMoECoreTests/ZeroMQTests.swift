import CZMQ
import Foundation
import Testing

@testable import PCMoECore

/// Three started parties of a loopback network, joined.
private struct NetworkSession {
    let parties: [Party]
    let network: LoopbackNetwork
    var transports: [ZeroMQTransport] { network.transports }
    var keys: [CurveKeyPair] { network.keys }
    var deployment: Deployment { network.deployment }

    init(config: ModelConfig, options: TrainingOptions, session: UInt64 = 1) throws {
        network = try LoopbackNetwork(partyCount: 3, session: session,
                                      maxMessageBytes: Party.maxFrameBytes(config: config, options: options))
        parties = try (0..<3).map { id in
            var settings = PartySettings(id: id, partyCount: 3, session: session)
            settings.backboneSeed = options.seed
            settings.callTimeout = 20
            return try Party(settings: settings, config: config, options: options)
        }
        try network.start(parties)
        for party in parties { try party.join() }
    }

    func stop() {
        network.stop()
    }
}

/// Two rounds of three turns; returns every loss.
private func twoRounds(_ parties: [Party]) throws -> [Double] {
    var losses: [Double] = []
    for turn in 1...UInt64(6) {
        let party = parties[Int(turn - 1) % 3]
        let tokens = randomTokens(tinyConfig(experts: 6), batch: 2, seed: turn)
        losses.append(try party.trainTurn(tokens: tokens, turn: turn).loss)
    }
    return losses
}

@Test func zeroMQMatchesInProcessBitwise() throws {
    let config = tinyConfig(experts: 6)
    let network = try NetworkSession(config: config, options: collaborationOptions())
    defer { network.stop() }
    let local = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
    let overNetwork = try twoRounds(network.parties)
    let inProcess = try twoRounds(local.parties)
    #expect(overNetwork == inProcess)
    #expect(network.parties.allSatisfy { $0.traffic.sent > 0 })
    #expect(network.parties.allSatisfy { $0.traffic.received > 0 })
    #expect(network.transports.allSatisfy { $0.rejectedConnections == 0 })
}

/// Connects a DEALER to `endpoint` as `client`, expecting the server key `serverKey`.
private func rawClient(_ context: UnsafeMutableRawPointer, client: CurveKeyPair, serverKey: String,
                       endpoint: String) throws -> ZeroMQSocket {
    let socket = try ZeroMQSocket(context, type: ZMQ_DEALER)
    try socket.set(ZMQ_CURVE_SERVERKEY, serverKey)
    try socket.set(ZMQ_CURVE_PUBLICKEY, client.publicKey)
    try socket.set(ZMQ_CURVE_SECRETKEY, client.secretKey)
    try socket.connect(endpoint)
    return socket
}

/// Sends `bytes` and waits up to `seconds` for a reply.
private func exchange(_ socket: ZeroMQSocket, _ bytes: [UInt8], seconds: Double) -> [UInt8]? {
    socket.send([bytes])
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        var item = zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        if zmq_poll(&item, 1, 50) > 0, let (frames, _) = socket.receive() { return frames.last }
    }
    return nil
}

@Test func zeroMQAdmitsOnlyDeploymentKeys() throws {
    let config = tinyConfig(experts: 6)
    let network = try NetworkSession(config: config, options: collaborationOptions())
    defer { network.stop() }
    let context = zmq_ctx_new()!
    defer { zmq_ctx_term(context) }
    let hello = Hello(partyCount: 3, config: config, options: collaborationOptions())
    let endpoint = network.deployment.members[0].endpoint
    let serverKey = network.keys[0].publicKey

    // Positive control: party 2's key, speaking as party 2, gets a Welcome.
    let allowed = try rawClient(context, client: network.keys[2], serverKey: serverKey, endpoint: endpoint)
    let asTwo = Envelope(session: 1, sender: 2, receiver: 0, requestID: 900, body: .hello(hello)).encoded()
    let welcome = try #require(exchange(allowed, asTwo, seconds: 5))
    guard case .welcome = try Envelope.decode(welcome, maxBytes: 1 << 20).body else {
        Issue.record("expected a Welcome")
        return
    }

    // The same key claiming to be party 1 is rejected.
    let asOne = Envelope(session: 1, sender: 1, receiver: 0, requestID: 901, body: .hello(hello)).encoded()
    let refusal = try #require(exchange(allowed, asOne, seconds: 5))
    guard case .error(let error) = try Envelope.decode(refusal, maxBytes: 1 << 20).body else {
        Issue.record("expected an ErrorReply")
        return
    }
    #expect(error.message.contains("authenticated as party 2"))
    allowed.close()

    // A key outside the deployment gets nothing, and the refusal is counted.
    let stranger = try rawClient(context, client: try CurveKeyPair.generate(), serverKey: serverKey, endpoint: endpoint)
    #expect(exchange(stranger, asTwo, seconds: 1) == nil)
    #expect(network.transports[0].rejectedConnections >= 1)
    stranger.close()
}

@Test func keyFilesRequireOwnerOnlyMode() throws {
    let folder = try TemporaryFolder()
    let keys = try CurveKeyPair.generate()
    try keys.write(prefix: folder.path + "/party0")
    #expect(try CurveKeyPair.read(keyFile: folder.path + "/party0.key") == keys)
    #expect(try CurveKeyPair.readPublicKey(folder.path + "/party0.pub") == keys.publicKey)
    #expect(throws: PCMoEError.self) { try keys.write(prefix: folder.path + "/party0") }

    chmod(folder.path + "/party0.key", 0o640)
    let message = errorMessage { _ = try CurveKeyPair.read(keyFile: folder.path + "/party0.key") }
    #expect(message?.contains("chmod 600") == true)
    #expect(message?.contains(keys.secretKey) == false)
}

@Test func deploymentFileReadsKeysAndFiles() throws {
    let folder = try TemporaryFolder()
    let keys = try (0..<2).map { _ in try CurveKeyPair.generate() }
    _ = try folder.makeFolder("keys")
    try keys[1].write(prefix: folder.path + "/keys/one")
    let path = try folder.write("deployment.json", """
        {"session": 7, "parties": [
          {"id": 0, "endpoint": "tcp://127.0.0.1:6000", "public_key": "\(keys[0].publicKey)"},
          {"id": 1, "endpoint": "tcp://127.0.0.1:6001", "public_key_file": "keys/one.pub"}]}
        """)
    let deployment = try Deployment.load(path: path)
    #expect(deployment.session == 7)
    // Session ids above 2^53 keep every bit.
    let large = try folder.write("large.json", String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        .replacingOccurrences(of: "\"session\": 7", with: "\"session\": 18446744073709551615"))
    #expect(try Deployment.load(path: large).session == UInt64.max)
    #expect(deployment.members.map(\.publicKey) == keys.map(\.publicKey))
    #expect(deployment.party(withKey: keys[1].publicKey) == 1)
}

@Test(arguments: [
    (#"{"session": 0, "parties": []}"#, "session is 0"),
    (#"{"parties": []}"#, "\"session\""),
    (#"{"session": 1, "parties": [{"id": 1, "endpoint": "tcp://a:1", "public_key": "x"}]}"#, "position 0 has id 1"),
    (#"{"session": 1, "parties": [{"id": 0, "endpoint": "tcp://a:1", "public_key": "x"}]}"#, "not a CURVE key"),
    (#"{"session": 1, "parties": [{"id": 0, "endpoint": "tcp://a:1"}]}"#, "public_key_file"),
    ("[", "not valid JSON"),
    (#"{"session": 1, "sesion": 2, "parties": []}"#, "unknown key \"sesion\""),
    (#"{"session": 1.5, "parties": []}"#, "\"session\""),
    (#"{"session": -5, "parties": []}"#, "\"session\""),
    (#"{"session": 1, "parties": [{"id": 0.9, "endpoint": "tcp://a:1", "public_key": "x"}]}"#, "\"parties[0].id\" is 0.9"),
    (#"{"session": 1, "parties": [{"id": 0, "endpoint": "tcp://a:0", "public_key": "x"}]}"#, "port from 1 to 65535"),
    (#"{"session": 1, "parties": [{"id": 0, "endpoint": "tcp://a:1", "public_key": "x", "public_key_file": "y"}]}"#,
     "has both"),
])
func deploymentFileRejects(json: String, expected: String) throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("deployment.json", json)
    let message = errorMessage { _ = try Deployment.load(path: path) }
    #expect(message?.contains(expected) == true, "\(message ?? "no error")")
    #expect(message?.contains("deployment.json") == true)
}

@Test func zeroMQReplayedStepIsAppliedOnce() throws {
    let network = try NetworkSession(config: tinyConfig(experts: 6), options: collaborationOptions())
    defer { network.stop() }
    let context = zmq_ctx_new()!
    defer { zmq_ctx_term(context) }
    let peer = try rawClient(context, client: network.keys[2], serverKey: network.keys[0].publicKey,
                             endpoint: network.deployment.members[0].endpoint)
    defer { peer.close() }
    let step = Envelope(session: 1, sender: 2, receiver: 0, requestID: 77, body: .step(StepBody(turn: 1, globalStep: 1)))
    let first = try #require(exchange(peer, step.encoded(), seconds: 5))
    #expect(network.parties[0].expertSteps == 1)

    // The same bytes again: the same reply, and no second step.
    let again = try #require(exchange(peer, step.encoded(), seconds: 5))
    #expect(again == first)
    #expect(network.parties[0].expertSteps == 1)

    // Positive control: a new request for the next turn steps again.
    let next = Envelope(session: 1, sender: 2, receiver: 0, requestID: 78, body: .step(StepBody(turn: 2, globalStep: 2)))
    _ = try #require(exchange(peer, next.encoded(), seconds: 5))
    #expect(network.parties[0].expertSteps == 2)
}

@Test func zeroMQDropsFramesAboveThePartyLimitUnread() throws {
    let config = tinyConfig(experts: 6)
    let network = try NetworkSession(config: config, options: collaborationOptions())
    defer { network.stop() }
    let context = zmq_ctx_new()!
    defer { zmq_ctx_term(context) }
    let endpoint = network.deployment.members[0].endpoint
    let serverKey = network.keys[0].publicKey
    let limit = network.parties[0].maxFrameBytes

    // libzmq closes the connection of a frame over the limit, so no
    // ErrorReply comes back and the party never holds the frame.
    let big = try rawClient(context, client: network.keys[2], serverKey: serverKey, endpoint: endpoint)
    #expect(exchange(big, [UInt8](repeating: 7, count: limit + 1), seconds: 1) == nil)
    big.close()

    // Positive control: a frame within the limit gets its reply.
    let small = try rawClient(context, client: network.keys[2], serverKey: serverKey, endpoint: endpoint)
    let hello = Hello(partyCount: 3, config: config, options: collaborationOptions())
    let bytes = Envelope(session: 1, sender: 2, receiver: 0, requestID: 5, body: .hello(hello)).encoded()
    #expect(exchange(small, bytes, seconds: 5) != nil)
    small.close()
}

/// Writes `text` as an owner-only key file in `folder` and returns the error reading it gives, if any.
private func keyFileError(_ folder: TemporaryFolder, _ name: String, _ text: String) throws -> String? {
    let path = try folder.write(name, text)
    chmod(path, 0o600)
    return errorMessage { _ = try CurveKeyPair.read(keyFile: path) }
}

@Test func keyFileContentIsChecked() throws {
    let folder = try TemporaryFolder()
    let (one, two) = (try CurveKeyPair.generate(), try CurveKeyPair.generate())
    try one.write(prefix: folder.path + "/one")
    chmod(folder.path + "/one.pub", 0o644)
    let pub = errorMessage { _ = try CurveKeyPair.read(keyFile: folder.path + "/one.pub") }
    #expect(pub?.contains("not the .pub file") == true, "\(pub ?? "no error")")

    let mixed = try keyFileError(folder, "mixed.key", "public-key = \(one.publicKey)\nsecret-key = \(two.secretKey)\n")
    #expect(mixed?.contains("does not belong to its secret key") == true, "\(mixed ?? "no error")")
    let twice = try keyFileError(folder, "twice.key", "public-key = \(one.publicKey)\npublic-key = \(two.publicKey)\n"
                                     + "secret-key = \(one.secretKey)\n")
    #expect(twice?.contains("two public-key lines") == true, "\(twice ?? "no error")")
    let crlf = try keyFileError(folder, "crlf.key", "public-key = \(one.publicKey)\r\nsecret-key = \(one.secretKey)\r\n")
    #expect(crlf == nil, "\(crlf ?? "")")
}

@Test func keygenWritesNothingWhenEitherFileExists() throws {
    let folder = try TemporaryFolder()
    _ = try folder.write("party.pub", "old")
    #expect(throws: PCMoEError.self) { try CurveKeyPair.generate().write(prefix: folder.path + "/party") }
    #expect(!FileManager.default.fileExists(atPath: folder.path + "/party.key"))
}

@Test func stoppedTransportIsFreed() throws {
    weak var released: ZeroMQTransport?
    do {
        let network = try LoopbackNetwork(partyCount: 2, session: 3)
        let parties = try (0..<2).map { id in
            try Party(settings: PartySettings(id: id, partyCount: 2, session: 3), config: tinyConfig(),
                      options: collaborationOptions())
        }
        try network.start(parties)
        released = network.transports[0]
        network.stop()
    }
    #expect(released == nil)
}

@Test func bindFailureThrowsAndKeepsThePortOwner() throws {
    let keys = try CurveKeyPair.generate()
    let first = try ZeroMQTransport(id: 0, keys: keys, endpoint: "tcp://127.0.0.1:*", allowedKeys: [keys.publicKey])
    defer { first.stop() }
    #expect(throws: PCMoEError.self) {
        _ = try ZeroMQTransport(id: 0, keys: keys, endpoint: first.boundEndpoint, allowedKeys: [keys.publicKey])
    }
}
