import CZMQ
import Foundation

/// The ZeroMQ authentication (ZAP) handler of one party's context. It
/// accepts a CURVE connection only from a public key on the deployment's
/// list. It gives the connection the id of the party that key belongs to,
/// so every message on it carries that id as its User-Id.
final class ZAPHandler: @unchecked Sendable {
    let socket: ZeroMQSocket
    private let lock = NSLock()
    private var allowed: [String: Int] = [:]
    private var stopping = false
    private var thread: Thread?
    private var rejected = 0
    private let owner: Int

    /// Binds the handler's endpoint in `context`, accepting the public key
    /// `allowedKeys[i]` as party i.
    init(context: UnsafeMutableRawPointer, owner: Int, allowedKeys: [String]) throws {
        self.owner = owner
        allowed = Dictionary(allowedKeys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        socket = try ZeroMQSocket(context, type: ZMQ_REP)
        try socket.bind("inproc://zeromq.zap.01")
    }

    /// Connections refused so far.
    var rejectedConnections: Int { lock.withLock { rejected } }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "pcmoe.zap.\(owner)"
        self.thread = thread
        thread.start()
    }

    func stop() {
        lock.withLock { stopping = true }
        while thread?.isFinished == false { usleep(1000) }
        // The thread's closure references this handler, so releasing the thread frees both.
        thread = nil
        socket.close()
    }

    private func run() {
        var item = zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        while !lock.withLock({ stopping }) {
            guard zmq_poll(&item, 1, 100) > 0 else { continue }
            while let (frames, _) = socket.receive() {
                socket.send(answer(frames))
            }
        }
    }

    /// Builds the reply to one ZAP request (version, request id, domain, address,
    /// identity, mechanism, credentials...).
    private func answer(_ request: [[UInt8]]) -> [[UInt8]] {
        let requestID = request.count > 1 ? request[1] : []
        func reply(_ code: String, _ text: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(user.utf8), []]
        }
        guard request.count >= 7, String(decoding: request[5], as: UTF8.self) == "CURVE", request[6].count == 32 else {
            count(rejection: "a connection without CURVE credentials")
            return reply("400", "CURVE is required")
        }
        var text = [CChar](repeating: 0, count: 41)
        _ = request[6].withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, 32) }
        let key = String(cString: text)
        guard let party = lock.withLock({ allowed[key] }) else {
            let address = String(decoding: request[3], as: UTF8.self)
            count(rejection: "a connection from \(address) with public key \(key), which is not in the deployment")
            return reply("400", "key not allowed")
        }
        return reply("200", "OK", user: String(party))
    }

    private func count(rejection: String) {
        lock.withLock { rejected += 1 }
        Log.write(.warning, "party \(owner) rejected \(rejection).")
    }
}
