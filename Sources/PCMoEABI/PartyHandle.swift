import CPCMoEABI
import Foundation
import PCMoECore

/// The object behind a pcmoe_party handle: the core's party host.
final class PartyHandle {
    let host: PartyHost
    private let lock = NSLock()
    /// The runner of the party's latest session, kept as long as the handle:
    /// the party's session state still refers to it after the run.
    private var runner: SessionRunner?
    /// True from the start of pcmoe_party_run_session until it returns.
    private var sessionRunning = false
    /// True when a cancel came during the session before its runner existed.
    private var stopPending = false

    init(_ host: PartyHost) {
        self.host = host
    }

    /// Records that a session starts, so a cancel from now on stops it.
    func beginSession() {
        lock.withLock {
            sessionRunning = true
            stopPending = false
        }
    }

    /// Keeps the session's runner, and stops it when a cancel came before it existed.
    func keep(_ runner: SessionRunner) {
        let stop = lock.withLock { () -> Bool in
            self.runner = runner
            return stopPending
        }
        if stop { runner.stop() }
    }

    /// Records that the session returned.
    func endSession() {
        lock.withLock {
            sessionRunning = false
            stopPending = false
        }
    }

    /// Stops the session that runs, if any, and the turn or evaluation in progress.
    func cancel() {
        let running = lock.withLock { () -> SessionRunner? in
            guard sessionRunning else { return nil }
            stopPending = true
            return runner
        }
        running?.stop()
        host.cancel()
    }

    /// Returns the handle object behind a handle, or throws for NULL.
    static func handle(_ handle: OpaquePointer?) throws -> PartyHandle {
        let pointer = try required(handle, "party")
        return Unmanaged<PartyHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Creates a handle that owns one reference to `host`.
    static func retained(_ host: PartyHost) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(PartyHandle(host)).toOpaque())
    }

    /// Returns the host behind a handle, or throws for NULL.
    static func host(_ handle: OpaquePointer?) throws -> PartyHost {
        let pointer = try required(handle, "party")
        return Unmanaged<PartyHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue().host
    }

    /// Drops the reference a handle owns.
    static func release(_ handle: OpaquePointer) {
        Unmanaged<PartyHandle>.fromOpaque(UnsafeRawPointer(handle)).release()
    }
}

/// The object behind a pcmoe_hub handle: the core's in-process transport.
final class HubHandle {
    let transport: InProcessTransport

    init(_ transport: InProcessTransport) {
        self.transport = transport
    }

    static func transport(_ handle: OpaquePointer?) throws -> InProcessTransport {
        let pointer = try required(handle, "hub")
        return Unmanaged<HubHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue().transport
    }
}

/// Carries messages through the host's send callback.
final class CallbackTransport: Transport, @unchecked Sendable {
    private let callback: pcmoe_send_fn
    private let context: HostContext

    init(_ callback: pcmoe_send_fn, context: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.context = HostContext(pointer: context)
    }

    func send(_ bytes: [UInt8], to destination: Int) {
        let result = bytes.withUnsafeBufferPointer { callback(context.pointer, UInt32(destination), $0.baseAddress, $0.count) }
        if result != 0 {
            Log.write(.warning, "the host's transport returned \(result) for a message of \(bytes.count) bytes "
                          + "to party \(destination); the call waiting for its reply will time out.")
        }
    }
}
