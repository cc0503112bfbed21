/// The one error type of the core: every failure a caller can cause or meet.
///
/// Each case carries a complete sentence that names the offending value and,
/// where there is one, the fix. The C ABI maps each case to a status code.
public enum PCMoEError: Error, Equatable, CustomStringConvertible {
    /// A size, option or argument is out of range or inconsistent.
    case invalidArgument(String)
    /// Training data is missing, empty, unreadable, corrupt or too short.
    case invalidData(String)
    /// A checkpoint is truncated, foreign, of another version or another shape.
    case invalidCheckpoint(String)
    /// Reading or writing a file failed at the operating-system level.
    case io(String)
    /// Training produced a NaN or an infinity.
    case nonFinite(String)
    /// A long call stopped early because the caller asked it to.
    case cancelled(String)
    /// Another party refused a request, answered with something unexpected,
    /// or did not answer in time.
    case peer(String)

    /// The message, without the category.
    public var message: String {
        switch self {
        case .invalidArgument(let m), .invalidData(let m), .invalidCheckpoint(let m),
             .io(let m), .nonFinite(let m), .cancelled(let m), .peer(let m):
            return m
        }
    }

    public var description: String { message }
}
