import Foundation

/// The severity of a log message; lower values are more severe.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    /// A call failed, or a peer broke the protocol.
    case error = 1
    /// Something was refused, skipped or retried, and work goes on.
    case warning = 2
    /// Milestones: a turn finished, data loaded, a checkpoint written.
    case info = 3
    /// Every message handled.
    case debug = 4

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The destination of the library's log messages: silent until a sink is set.
///
/// The library writes nothing to stdout or stderr by itself: a host that
/// wants messages installs a sink with ``set(level:sink:)``. Thread-safe;
/// the sink is called on the thread that logs, one message at a time.
public enum Log {
    /// Receives each message at or above the chosen level.
    public typealias Sink = @Sendable (LogLevel, String) -> Void

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var level = LogLevel.warning
        var sink: Sink?
        /// Serialises calls of the sink. Recursive, so a sink that calls
        /// into the library, which may log again, does not deadlock.
        let calls = NSRecursiveLock()
    }

    private static let state = State()

    /// Sends messages of `level` and more severe to `sink`; a nil sink makes
    /// the library silent again.
    public static func set(level: LogLevel, sink: Sink?) {
        state.lock.withLock {
            state.level = level
            state.sink = sink
        }
    }

    /// True when a message of `level` would reach a sink, so callers can
    /// skip building messages that no sink would receive.
    public static func enabled(_ level: LogLevel) -> Bool {
        state.lock.withLock { state.sink != nil && level <= state.level }
    }

    /// Sends `message` to the sink when `level` is enabled.
    public static func write(_ level: LogLevel, _ message: @autoclosure () -> String) {
        let sink = state.lock.withLock { level <= state.level ? state.sink : nil }
        guard let sink else { return }
        let text = message()
        state.calls.lock()
        defer { state.calls.unlock() }
        sink(level, text)
    }
}
