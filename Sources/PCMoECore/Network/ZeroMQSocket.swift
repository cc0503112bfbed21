import CZMQ
import Foundation

/// Returns the message of the last libzmq error.
func zeroMQError() -> String {
    String(cString: zmq_strerror(zmq_errno()))
}

/// One ZeroMQ socket. Not thread-safe, like the socket it wraps: each is
/// used by one thread after it is set up.
final class ZeroMQSocket {
    let handle: UnsafeMutableRawPointer
    private var closed = false

    /// A socket of `type` (ZMQ_ROUTER, ZMQ_DEALER, ...) in `context`, which
    /// drops unsent messages when closed.
    init(_ context: UnsafeMutableRawPointer, type: Int32) throws {
        guard let handle = zmq_socket(context, type) else {
            throw PCMoEError.io("creating a ZeroMQ socket failed: \(zeroMQError()).")
        }
        self.handle = handle
        try set(ZMQ_LINGER, 0)
    }

    deinit { close() }

    func set(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw PCMoEError.io("setting ZeroMQ socket option \(option) failed: \(zeroMQError()).")
        }
    }

    func setLong(_ option: Int32, _ value: Int64) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else {
            throw PCMoEError.io("setting ZeroMQ socket option \(option) failed: \(zeroMQError()).")
        }
    }

    func set(_ option: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        guard zmq_setsockopt(handle, option, bytes, bytes.count) == 0 else {
            throw PCMoEError.io("setting ZeroMQ socket option \(option) failed: \(zeroMQError()).")
        }
    }

    func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else {
            throw PCMoEError.io("binding \(endpoint) failed: \(zeroMQError()).")
        }
    }

    func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else {
            throw PCMoEError.io("connecting to \(endpoint) failed: \(zeroMQError()).")
        }
    }

    /// The endpoint the socket last bound, with the port the system chose for `*`.
    var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(cString: buffer)
    }

    /// Queues the frames of one message without blocking. Returns false when
    /// the message cannot be queued (no connection to the peer yet, or a full queue).
    @discardableResult
    func send(_ frames: [[UInt8]]) -> Bool {
        for (index, frame) in frames.enumerated() {
            let flags = ZMQ_DONTWAIT | (index + 1 < frames.count ? ZMQ_SNDMORE : 0)
            if zmq_send(handle, frame, frame.count, flags) < 0 { return false }
        }
        return true
    }

    /// Receives one whole message without blocking, with the User-Id that
    /// authentication gave its connection; nil when none is waiting.
    func receive() -> (frames: [[UInt8]], userID: String?)? {
        var frames: [[UInt8]] = []
        var userID: String?
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, handle, frames.isEmpty ? ZMQ_DONTWAIT : 0) >= 0 else { return nil }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)!.assumingMemoryBound(to: UInt8.self)
            frames.append(Array(UnsafeBufferPointer(start: data, count: size)))
            if userID == nil, let id = zmq_msg_gets(&message, "User-Id") { userID = String(cString: id) }
            if zmq_msg_more(&message) == 0 { return (frames, userID) }
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }
}
