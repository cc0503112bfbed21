import CPCMoEABI
import PCMoECore

/// The library version; equal to PCMOE_VERSION_STRING of the header it was built with.
let libraryVersion: StaticString = "0.1.0"

@_cdecl("pcmoe_version")
public func abiVersion() -> UnsafePointer<CChar> {
    cString(libraryVersion)
}

@_cdecl("pcmoe_status_string")
public func abiStatusString(_ status: pcmoe_status) -> UnsafePointer<CChar> {
    switch status {
    case PCMOE_OK: return cString("ok")
    case PCMOE_ERROR_INVALID_ARGUMENT: return cString("invalid argument")
    case PCMOE_ERROR_INVALID_CONFIG: return cString("invalid configuration")
    case PCMOE_ERROR_INVALID_DATA: return cString("invalid data")
    case PCMOE_ERROR_INVALID_CHECKPOINT: return cString("invalid checkpoint")
    case PCMOE_ERROR_IO: return cString("input/output error")
    case PCMOE_ERROR_NON_FINITE: return cString("non-finite value")
    case PCMOE_ERROR_CANCELLED: return cString("cancelled")
    case PCMOE_ERROR_PEER: return cString("peer error")
    case PCMOE_ERROR_BAD_MESSAGE: return cString("bad message")
    case PCMOE_ERROR_BUFFER_TOO_SMALL: return cString("buffer too small")
    case PCMOE_ERROR_INTERNAL: return cString("internal error")
    default: return cString("unknown status")
    }
}

@_cdecl("pcmoe_last_error")
public func abiLastError() -> UnsafePointer<CChar> {
    LastError.pointer
}

@_cdecl("pcmoe_set_threads")
public func abiSetThreads(_ count: UInt32) -> pcmoe_status {
    abiCall {
        guard (1...1024).contains(count) else {
            throw ABIError.invalid("the thread count is \(count); it must be from 1 to 1024.")
        }
        setMathThreads(Int(count))
    }
}

@_cdecl("pcmoe_threads")
public func abiThreads() -> UInt32 {
    UInt32(mathThreads)
}

@_cdecl("pcmoe_set_log_callback")
public func abiSetLogCallback(_ level: Int32, _ callback: pcmoe_log_fn?, _ context: UnsafeMutableRawPointer?) -> pcmoe_status {
    abiCall {
        guard let logLevel = LogLevel(rawValue: Int(level)) else {
            throw ABIError.invalid("the log level is \(level); it must be from 1 (errors) to 4 (debug).")
        }
        guard let callback else {
            Log.set(level: logLevel, sink: nil)
            return
        }
        let host = HostContext(pointer: context)
        Log.set(level: logLevel) { level, message in
            message.withCString { callback(host.pointer, Int32(level.rawValue), $0) }
        }
    }
}
