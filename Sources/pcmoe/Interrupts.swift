import Dispatch
import Foundation

/// Catches SIGINT and SIGTERM so that a training loop can stop between
/// steps and save, instead of dying mid-step.
final class Interrupts {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// Starts catching both signals for the life of the process.
    init() {
        for number in [SIGINT, SIGTERM] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.record(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops catching: both signals get their default action again.
    func restoreDefaults() {
        for source in sources { source.cancel() }
        sources.removeAll()
        Glibc.signal(SIGINT, SIG_DFL)
        Glibc.signal(SIGTERM, SIG_DFL)
    }

    private func record(_ number: Int32) {
        lock.lock()
        defer { lock.unlock() }
        received = received ?? number
    }

    /// The first signal caught, or nil.
    var caught: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Returns the signal's usual name.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(number)"
        }
    }
}
