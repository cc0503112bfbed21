import CPCMoEABI
import PCMoECore

/// The object behind a pcmoe_party handle: the core's party host.
final class PartyHandle {
    let host: PartyHost

    init(_ host: PartyHost) {
        self.host = host
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
