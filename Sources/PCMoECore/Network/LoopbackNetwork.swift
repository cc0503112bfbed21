/// A network deployment of `partyCount` parties on 127.0.0.1 in one
/// process: fresh key pairs, one ZeroMQ transport per party bound to a
/// port the system picks, and the deployment that lists them. For tests,
/// benchmarks and trials of the network path without separate processes.
public struct LoopbackNetwork {
    /// The key pair of each party.
    public let keys: [CurveKeyPair]
    /// The transport of each party, bound and not yet started.
    public let transports: [ZeroMQTransport]
    /// The deployment: each party's bound endpoint and public key.
    public let deployment: Deployment

    /// Generates the keys and binds the transports, which drop messages
    /// longer than `maxMessageBytes` (see ``Party/maxFrameBytes(config:options:)``).
    /// - Throws: ``PCMoEError/io(_:)`` when a socket cannot be set up.
    public init(partyCount: Int, session: UInt64, maxMessageBytes: Int = 64 << 20) throws {
        let keys = try (0..<partyCount).map { _ in try CurveKeyPair.generate() }
        let transports = try (0..<partyCount).map {
            try ZeroMQTransport(id: $0, keys: keys[$0], endpoint: "tcp://127.0.0.1:*", allowedKeys: keys.map(\.publicKey),
                                maxMessageBytes: maxMessageBytes)
        }
        deployment = try Deployment(session: session, members: (0..<partyCount).map {
            Deployment.Member(id: $0, endpoint: transports[$0].boundEndpoint, publicKey: keys[$0].publicKey)
        })
        self.keys = keys
        self.transports = transports
    }

    /// Starts the transport of each party; `parties[i]` must have id i.
    /// - Throws: the errors of ``ZeroMQTransport/start(_:deployment:)``.
    public func start(_ parties: [Party]) throws {
        for (party, transport) in zip(parties, transports) {
            try transport.start(party, deployment: deployment)
        }
    }

    /// Stops every transport.
    public func stop() {
        for transport in transports { transport.stop() }
    }
}
