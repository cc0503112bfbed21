import CPCMoEABI
import Foundation
import PCMoECore

/// Passes a session's events to the host's callback, one at a time, until
/// ``close()``: the runner's thread and the thread that delivers the
/// party's messages both report, and nothing may reach the host after its
/// call returned.
final class SessionReporter: @unchecked Sendable {
    private let lock = NSLock()
    private var callback: pcmoe_session_fn?
    private let context: HostContext

    init(_ callback: pcmoe_session_fn?, context: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.context = HostContext(pointer: context)
    }

    func report(_ event: SessionEvent) {
        lock.withLock {
            guard let callback else { return }
            var value = pcmoe_session_event(struct_size: MemoryLayout<pcmoe_session_event>.size, kind: 0, resumed: 0,
                                            turn: 0, loss: .nan, message: nil)
            var message = ""
            switch event {
            case .joined(let turns, let resumed):
                value.kind = kind(PCMOE_SESSION_JOINED)
                value.turn = turns
                value.resumed = resumed ? 1 : 0
            case .turn(let metrics):
                value.kind = kind(PCMOE_SESSION_TURN)
                value.turn = metrics.turn
                value.loss = metrics.loss
            case .saved(let turns):
                value.kind = kind(PCMOE_SESSION_SAVED)
                value.turn = turns
            case .fault(let reason):
                value.kind = kind(PCMOE_SESSION_FAULT)
                message = reason
            case .evaluated(let result):
                value.kind = kind(PCMOE_SESSION_EVALUATED)
                value.loss = result.loss
            }
            message.replacingOccurrences(of: "\0", with: "\\0").withCString { text in
                value.message = text
                callback(context.pointer, &value)
            }
        }
    }

    /// Stops every report; waits for one that is running.
    func close() {
        lock.withLock { callback = nil }
    }

    private func kind(_ value: pcmoe_session_event_kind) -> Int32 {
        Int32(value.rawValue)
    }
}

@_cdecl("pcmoe_party_run_session")
public func abiPartyRunSession(_ party: OpaquePointer?, _ params: UnsafePointer<pcmoe_session_params>?,
                               _ callback: pcmoe_session_fn?, _ context: UnsafeMutableRawPointer?,
                               _ result: UnsafeMutablePointer<pcmoe_evaluation>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let handle = try PartyHandle.handle(party)
        let host = handle.host
        let options = try sessionOptions(try readSessionParams(try required(params, "params")))
        if result != nil { try checkOutputSize(size, firstVersion: FirstVersion.evaluation, "result_size") }
        let id = host.party.id
        guard host.party.settings.partyCount == 1 || host.party.transport != nil else {
            throw ABIError.invalid("party \(id) has no transport; create its network (pcmoe_network_create), attach "
                                       + "it to a hub or set a transport before its session.")
        }
        guard host.metrics.trainBytes > 0 else {
            throw ABIError.invalid("party \(id) has no training data; load some before its session.")
        }
        let reporter = SessionReporter(callback, context: context)
        handle.beginSession()
        defer {
            handle.endSession()
            reporter.close()
        }
        let runner = try SessionRunner(host: host, options: options, report: { reporter.report($0) })
        handle.keep(runner)
        let summary = try runner.run()
        if let result { write(evaluation(summary.evaluation), to: result, size: size) }
    }
}

@_cdecl("pcmoe_peak_resident_bytes")
public func abiPeakResidentBytes() -> UInt64 {
    UInt64(ProcessMemory.peakResidentBytes() ?? 0)
}
