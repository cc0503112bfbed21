import CZMQ
import Foundation

/// Carries a party's envelopes over ZeroMQ TCP connections, encrypted and
/// authenticated with CURVE.
///
/// The party binds a ROUTER socket that the other parties connect to, and
/// connects one DEALER socket to each of them. Its requests leave on the
/// DEALER of their destination, and its replies on the ROUTER connection the
/// request came from. Only the public keys of the deployment may connect
/// (checked by a ZAP handler), and every incoming envelope must name as its
/// sender the party its connection authenticated as. One I/O thread owns
/// the sockets; ``send(_:to:)`` hands messages to it through a queue.
public final class ZeroMQTransport: Transport, @unchecked Sendable {
    /// The endpoint the ROUTER socket is bound to, with the port the system
    /// chose when the requested endpoint ended in `*`.
    public let boundEndpoint: String
    private let id: Int
    private let keys: CurveKeyPair
    private let allowedKeys: [String]
    private let context: UnsafeMutableRawPointer
    private let router: ZeroMQSocket
    private let zap: ZAPHandler
    private var dealers: [Int: ZeroMQSocket] = [:]
    private weak var party: Party?
    private let lock = NSLock()
    private var outbox: [(Int, [UInt8])] = []
    private var stopping = false
    private var ioThread: Thread?
    private let wakeup: (read: Int32, write: Int32)
    private var dropped = 0
    /// Messages waiting for their peer's connection; used by the I/O thread only.
    private var held: [(destination: Int, bytes: [UInt8], since: Date)] = []
    private let plain: Bool

    /// Creates the context and the authentication handler, which admits the
    /// public key `allowedKeys[i]` as party i, and binds the ROUTER socket of
    /// party `id` at `endpoint` (such as tcp://127.0.0.1:5550, or
    /// tcp://127.0.0.1:* for a port the system picks).
    ///
    /// libzmq closes a connection that sends a message longer than
    /// `maxMessageBytes` before buffering it, so a peer cannot make this
    /// process hold a huge frame. Pass the party's ``Party/maxFrameBytes``;
    /// libzmq reads the value when the socket binds, so it cannot change later.
    ///
    /// `insecurePlainTCP` turns encryption and authentication off: anyone
    /// who reaches the port can read the rows, send requests and pose as
    /// any party. It exists for debugging on a trusted host, and a warning
    /// is logged when it is used.
    /// - Throws: ``PCMoEError/io(_:)`` when the endpoint cannot be bound.
    public init(id: Int, keys: CurveKeyPair, endpoint: String, allowedKeys: [String], insecurePlainTCP: Bool = false,
                maxMessageBytes: Int = 64 << 20) throws {
        self.id = id
        self.keys = keys
        self.allowedKeys = allowedKeys
        self.plain = insecurePlainTCP
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PCMoEError.io("creating a pipe failed: \(String(cString: strerror(errno))).") }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        wakeup = (fds[0], fds[1])
        guard let context = zmq_ctx_new() else {
            Foundation.close(fds[0])
            Foundation.close(fds[1])
            throw PCMoEError.io("creating a ZeroMQ context failed: \(zeroMQError()).")
        }
        self.context = context
        var sockets: [ZeroMQSocket] = []
        do {
            // The handler starts only once the bind succeeded, so a failed
            // bind leaves no thread behind.
            let zap = try ZAPHandler(context: context, owner: id, allowedKeys: allowedKeys)
            sockets.append(zap.socket)
            router = try ZeroMQSocket(context, type: ZMQ_ROUTER)
            sockets.append(router)
            try router.setLong(ZMQ_MAXMSGSIZE, Int64(maxMessageBytes))
            if !insecurePlainTCP {
                try router.set(ZMQ_CURVE_SERVER, 1)
                try router.set(ZMQ_CURVE_SECRETKEY, keys.secretKey)
                try router.set(ZMQ_ZAP_DOMAIN, "pcmoe")
            }
            try router.bind(endpoint)
            self.zap = zap
        } catch {
            for socket in sockets { socket.close() }
            zmq_ctx_term(context)
            Foundation.close(fds[0])
            Foundation.close(fds[1])
            throw error
        }
        if insecurePlainTCP {
            Log.write(.warning, "party \(id) uses plain TCP: its traffic is neither encrypted nor authenticated, and "
                          + "anyone who reaches \(endpoint) can read the rows and pose as any party.")
        } else {
            zap.start()
        }
        boundEndpoint = router.lastEndpoint
    }

    deinit {
        stop()
        Foundation.close(wakeup.read)
        Foundation.close(wakeup.write)
        zmq_ctx_term(context)
    }

    /// Connections the authentication handler refused.
    public var rejectedConnections: Int { zap.rejectedConnections }

    /// Messages that could not be queued for their peer.
    public var droppedMessages: Int { lock.withLock { dropped } }

    /// Creates the transport of party `id` of `deployment`, bound at the
    /// party's endpoint and admitting the deployment's keys.
    public convenience init(deployment: Deployment, id: Int, keys: CurveKeyPair, insecurePlainTCP: Bool = false,
                            maxMessageBytes: Int = 64 << 20) throws {
        guard deployment.members.indices.contains(id) else {
            throw PCMoEError.invalidArgument("the deployment has no party \(id).")
        }
        try self.init(id: id, keys: keys, endpoint: deployment.members[id].endpoint,
                      allowedKeys: deployment.members.map(\.publicKey), insecurePlainTCP: insecurePlainTCP,
                      maxMessageBytes: maxMessageBytes)
    }

    /// Connects to every other party of `deployment`, makes this transport
    /// carry `party`'s messages and starts the I/O thread.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` when the deployment does
    ///   not list this party with this key pair, lists other keys than the
    ///   transport admits, or has another party count; ``PCMoEError/io(_:)``
    ///   when a connection cannot be set up.
    public func start(_ party: Party, deployment: Deployment) throws {
        guard deployment.members.indices.contains(id), deployment.members[id].publicKey == keys.publicKey else {
            throw PCMoEError.invalidArgument("the deployment does not list party \(id) with this key pair's public key.")
        }
        guard deployment.members.map(\.publicKey) == allowedKeys else {
            throw PCMoEError.invalidArgument("the deployment's public keys differ from the keys this transport admits.")
        }
        guard deployment.members.count == party.settings.partyCount, party.id == id else {
            throw PCMoEError.invalidArgument("the deployment lists \(deployment.members.count) parties; party \(party.id) "
                                                 + "belongs to a session of \(party.settings.partyCount).")
        }
        for member in deployment.members where member.id != id {
            let dealer = try ZeroMQSocket(context, type: ZMQ_DEALER)
            try dealer.setLong(ZMQ_MAXMSGSIZE, Int64(party.maxFrameBytes))
            // Messages queue only on a connection that is up, so a request to
            // a peer that is down is dropped (and retried) rather than held
            // for a later process that would take it for its own.
            try dealer.set(ZMQ_IMMEDIATE, 1)
            if !plain {
                try dealer.set(ZMQ_CURVE_SERVERKEY, member.publicKey)
                try dealer.set(ZMQ_CURVE_PUBLICKEY, keys.publicKey)
                try dealer.set(ZMQ_CURVE_SECRETKEY, keys.secretKey)
            }
            try dealer.connect(member.endpoint)
            dealers[member.id] = dealer
        }
        self.party = party
        party.transport = self
        let thread = Thread { [self] in run() }
        thread.name = "pcmoe.zmq.\(id)"
        ioThread = thread
        thread.start()
    }

    public func send(_ bytes: [UInt8], to destination: Int) {
        lock.withLock { outbox.append((destination, bytes)) }
        var byte: UInt8 = 1
        _ = Foundation.write(wakeup.write, &byte, 1)
    }

    /// Stops the I/O and authentication threads and closes the sockets.
    /// Replies already queued get up to 2 s to leave; other messages not yet
    /// sent are dropped.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        send([], to: -1)
        while ioThread?.isFinished == false { usleep(1000) }
        // The thread's closure references this transport, so releasing the thread frees both.
        ioThread = nil
        try? router.set(ZMQ_LINGER, 2000)
        router.close()
        for dealer in dealers.values { dealer.close() }
        zap.stop()
    }

    /// Runs the I/O loop: sends what ``send(_:to:)`` queued, and hands every
    /// incoming message to the party with the id its connection authenticated as.
    private func run() {
        let peers = dealers.keys.sorted()
        var items = [zmq_pollitem_t(socket: router.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)]
        items += peers.map { zmq_pollitem_t(socket: dealers[$0]!.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        items.append(zmq_pollitem_t(socket: nil, fd: wakeup.read, events: Int16(ZMQ_POLLIN), revents: 0))
        while !lock.withLock({ stopping }) {
            guard zmq_poll(&items, Int32(items.count), held.isEmpty ? 1000 : 5) >= 0 else { continue }
            drainWakeups()
            sendQueued()
            while let (frames, user) = router.receive() {
                serve(frames, user: user)
            }
            for (index, peer) in peers.enumerated() where items[index + 1].revents != 0 {
                while let (frames, _) = dealers[peer]!.receive() {
                    guard let party, let bytes = frames.last else { continue }
                    _ = party.receive(bytes, authenticatedSender: plain ? nil : peer)
                }
            }
        }
    }

    /// Handles a request (or a stray message) that arrived on the ROUTER and
    /// sends the reply back on the connection it came from.
    private func serve(_ frames: [[UInt8]], user: String?) {
        let sender = user.flatMap { Int($0) }
        guard let party, frames.count == 2, sender != nil || plain else { return }
        let delivery = party.receive(frames[1], authenticatedSender: sender)
        if let reply = delivery.reply, !router.send([frames[0], reply.bytes]) {
            lock.withLock { dropped += 1 }
        }
    }

    /// Sends what ``send(_:to:)`` queued. A message whose peer has no
    /// connection yet is held and tried again on each pass of the loop for
    /// up to ``holdSeconds``, then dropped; the caller's retry sends it again.
    private func sendQueued() {
        let queued = lock.withLock { () -> [(Int, [UInt8])] in
            defer { outbox.removeAll() }
            return outbox
        }
        let now = Date()
        let attempts = held + queued.map { (destination: $0.0, bytes: $0.1, since: now) }
        held = []
        for message in attempts {
            guard let dealer = dealers[message.destination] else { continue }
            if dealer.send([message.bytes]) { continue }
            if now.timeIntervalSince(message.since) < Self.holdSeconds {
                held.append(message)
                continue
            }
            lock.withLock { dropped += 1 }
            Log.write(.debug, "party \(id) dropped a message of \(message.bytes.count) bytes for party \(message.destination): "
                          + "no connection within \(Self.holdSeconds) s (\(zeroMQError())).")
        }
    }

    /// How long a message waits for its peer's connection before it is dropped.
    static let holdSeconds = 1.0

    private func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while Foundation.read(wakeup.read, &buffer, buffer.count) > 0 {}
    }
}
