import CPCMoEABI
import Foundation
import PCMoECore

/// A failure detected by the ABI layer itself: a NULL pointer or a wrong size.
struct ABIError: Error {
    let status: pcmoe_status
    let message: String

    static func invalid(_ message: String) -> ABIError {
        ABIError(status: PCMOE_ERROR_INVALID_ARGUMENT, message: message)
    }
}

/// The message behind pcmoe_last_error: one malloc'd C string per thread,
/// freed when it is replaced or when the thread exits.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    /// Replaces this thread's message; an empty message frees it. A NUL
    /// inside the message is written as \0, so the C string keeps all of it.
    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        let text = message.replacingOccurrences(of: "\0", with: "\\0")
        pthread_setspecific(key, text.isEmpty ? nil : UnsafeMutableRawPointer(strdup(text)))
        free(old)
    }

    /// This thread's message, or "" when there is none.
    static var pointer: UnsafePointer<CChar> {
        guard let raw = pthread_getspecific(key) else { return cString("") }
        return UnsafePointer(raw.assumingMemoryBound(to: CChar.self))
    }
}

/// Returns a string literal as a static C string.
func cString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Runs the body of a status-returning function: every error becomes a
/// status code and this thread's last-error message; success clears it.
func abiCall(_ body: () throws -> Void) -> pcmoe_status {
    do {
        try body()
        LastError.set("")
        return PCMOE_OK
    } catch let error as ABIError {
        return fail(error.status, error.message)
    } catch let error as PCMoEError {
        return fail(status(of: error), error.message)
    } catch {
        return fail(PCMOE_ERROR_INTERNAL, "unexpected error: \(error)")
    }
}

/// Logs a failure, then records its message. A log callback may call other
/// pcmoe functions, which clear the message, so the message is set last.
private func fail(_ status: pcmoe_status, _ message: String) -> pcmoe_status {
    Log.write(.debug, message)
    LastError.set(message.isEmpty ? "failed without a message" : message)
    return status
}

/// Maps each core error to its status code.
func status(of error: PCMoEError) -> pcmoe_status {
    switch error {
    case .invalidArgument: return PCMOE_ERROR_INVALID_ARGUMENT
    case .invalidData: return PCMOE_ERROR_INVALID_DATA
    case .invalidCheckpoint: return PCMOE_ERROR_INVALID_CHECKPOINT
    case .io: return PCMOE_ERROR_IO
    case .nonFinite: return PCMOE_ERROR_NON_FINITE
    case .cancelled: return PCMOE_ERROR_CANCELLED
    case .peer: return PCMOE_ERROR_PEER
    }
}

/// Returns `pointer`, or throws an invalid-argument error naming `name`.
func required<T>(_ pointer: T?, _ name: String) throws -> T {
    guard let pointer else { throw ABIError.invalid("\(name) is NULL.") }
    return pointer
}

/// Wraps a host buffer without copying it. NULL is allowed only with size 0.
func buffer(_ pointer: UnsafePointer<UInt8>?, _ size: Int, _ name: String) throws -> UnsafeBufferPointer<UInt8> {
    guard size >= 0 else {
        throw ABIError.invalid("the size of \(name), \(UInt(bitPattern: size)), is larger than the address space.")
    }
    guard size > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
    return UnsafeBufferPointer(start: try required(pointer, name), count: size)
}

/// Copies a host buffer of at most `limit` bytes, checking the size first;
/// a larger one fails with `status`. NULL is allowed only with size 0.
func bytes(_ pointer: UnsafePointer<UInt8>?, _ size: Int, _ name: String, limit: Int,
           status: pcmoe_status) throws -> [UInt8] {
    guard size >= 0, size <= limit else {
        throw ABIError(status: status, message: "\(name) has \(UInt(bitPattern: size)) bytes; the limit is \(limit).")
    }
    return Array(try buffer(pointer, size, name))
}

/// Converts a C string argument to a Swift string.
func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    String(cString: try required(pointer, name))
}

/// Checks that a struct the library fills is at least `firstVersion` bytes
/// and returns the size to fill (a size_t above Int.max counts as Int.max).
@discardableResult
func checkOutputSize(_ size: Int, firstVersion: Int, _ name: String) throws -> Int {
    guard size >= 0 else { return Int.max }
    guard size >= firstVersion else {
        throw ABIError(status: PCMOE_ERROR_BUFFER_TOO_SMALL,
                       message: "\(name) is \(UInt(bitPattern: size)) bytes; the struct needs at least \(firstVersion) "
                           + "(pass sizeof the struct).")
    }
    return size
}

/// Writes `value` into a caller's struct of `size` bytes, as much of it as
/// fits; a size_t above Int.max (negative here) takes the whole value.
func write<T>(_ value: T, to pointer: UnsafeMutablePointer<T>, size: Int) {
    var copy = value
    withUnsafeBytes(of: &copy) { source in
        let count = size < 0 ? source.count : min(size, source.count)
        UnsafeMutableRawPointer(pointer).copyMemory(from: source.baseAddress!, byteCount: count)
    }
}

/// A host's context pointer, passed back to its callbacks from any thread.
struct HostContext: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
}
