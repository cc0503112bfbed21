import Foundation
import PCMoECore

/// Runs the parties of `pcmoe party` and prints what they report.
enum PartyRun {
    /// Runs party `options.id` of `deployment` over ZeroMQ until the session ends.
    static func overNetwork(_ options: PartyCommand.Options, deployment: Deployment) throws {
        let id = options.id!
        let keys = try CurveKeyPair.read(keyFile: options.key!)
        let host = try makeHost(options, deployment: deployment, id: id, data: options.data,
                                seed: options.backboneSeeds.first)
        let runner = try makeRunner(host, options.session)
        let transport = try ZeroMQTransport(deployment: deployment, id: id, keys: keys,
                                            insecurePlainTCP: options.plainTCP, maxMessageBytes: host.party.maxFrameBytes)
        defer { transport.stop() }
        try transport.start(host.party, deployment: deployment)
        print("party \(id): serving at \(transport.boundEndpoint) in session \(deployment.session) of "
              + "\(deployment.members.count) \(deployment.members.count == 1 ? "party" : "parties"); "
              + (options.plainTCP ? "PLAIN TCP, NOT ENCRYPTED" : "CURVE on") + "; " + privacySummary(host.party.settings))
        defer {
            if transport.rejectedConnections > 0 {
                print("party \(id): refused \(transport.rejectedConnections) connections from keys outside the deployment")
            }
        }
        let summary = try runner.run()
        printResult(id: id, summary, peakResident: ProcessMemory.peakResidentBytes())
    }

    /// Runs every party of `deployment` in this process over the in-process transport.
    static func inProcess(_ options: PartyCommand.Options, deployment: Deployment) throws {
        let count = deployment.members.count
        guard options.data.count == count else {
            throw UsageError(message: "--in-process needs one --data per party of the deployment: \(count), got \(options.data.count).")
        }
        guard options.backboneSeeds.isEmpty || options.backboneSeeds.count == count else {
            throw UsageError(message: "--in-process needs one --backbone-seed per party, or none: \(count), got "
                                 + "\(options.backboneSeeds.count).")
        }
        let transport = InProcessTransport(partyCount: count)
        let hosts = try (0..<count).map { id in
            try makeHost(options, deployment: deployment, id: id, data: [options.data[id]],
                         seed: options.backboneSeeds.isEmpty ? nil : options.backboneSeeds[id])
        }
        for host in hosts {
            try transport.connect(host.party)
            print("party \(host.party.id): runs in this process over the in-process transport; "
                  + privacySummary(host.party.settings))
        }
        let folder = options.checkpoints ?? "pcmoe-parties"
        let runners = try hosts.map { host in
            var session = options.session
            session.checkpointFolder = (folder as NSString).appendingPathComponent("party-\(host.party.id)")
            return try makeRunner(host, session)
        }
        let outcomes = runConcurrently(runners.map { runner in { try runner.run() } })
        // The peak resident set is the process's, shared by all parties here.
        let peak = ProcessMemory.peakResidentBytes()
        for (id, outcome) in outcomes.enumerated() {
            printResult(id: id, try outcome.get(), peakResident: peak)
        }
    }

    private static func makeHost(_ options: PartyCommand.Options, deployment: Deployment, id: Int, data: [String],
                                 seed: UInt64?) throws -> PartyHost {
        var settings = PartySettings(id: id, partyCount: deployment.members.count, session: deployment.session)
        settings.wireType = options.wire
        settings.callTimeout = options.callTimeout
        settings.callRetries = options.retries
        settings.backboneSeed = seed
        settings.rowNoise = options.rowNoise
        settings.ownExpertLayers = options.ownExpertLayers
        try settings.validate()
        try settings.validateOwnExpertLayers(for: options.model, name: "--own-expert-layers")
        return try PartyHost(config: PartyConfig(settings: settings, model: options.model, training: options.training,
                                                 data: data))
    }

    private static func makeRunner(_ host: PartyHost, _ options: SessionOptions) throws -> SessionRunner {
        let id = host.party.id
        return try SessionRunner(host: host, options: options) { event in
            print("party \(id): " + describe(event))
        }
    }

    /// Describes the privacy settings of a party's sent rows, for example
    /// "rows sent exact" or "row noise 2 (clip 11.3), own experts in 1 layer".
    static func privacySummary(_ settings: PartySettings) -> String {
        var parts: [String] = []
        if let noise = settings.rowNoise {
            parts.append(String(format: "row noise %g (clip %.3g)", noise.sigma, noise.clipNorm))
        }
        if settings.ownExpertLayers > 0 {
            parts.append("own experts in \(settings.ownExpertLayers) layer\(settings.ownExpertLayers == 1 ? "" : "s")")
        }
        return parts.isEmpty ? "rows sent exact" : parts.joined(separator: ", ")
    }

    static func describe(_ event: SessionEvent) -> String {
        switch event {
        case .joined(let turns, let resumed):
            return resumed ? "joined, resuming after turn \(turns)" : "joined, starting fresh"
        case .turn(let m):
            return "turn \(m.turn) loss \(m.loss) cross_entropy \(m.crossEntropy) lr \(m.learningRate) "
                + "grad_norm \(m.backboneGradientNorm)"
        case .saved(let turns):
            return "saved its checkpoint after turn \(turns)"
        case .fault(let reason):
            let cause = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
            return "the session broke (\(cause)); joining again"
        case .evaluated(let result):
            return String(format: "evaluated %d bytes: loss %.4f nats, %.4f bits per byte", result.tokens, result.loss,
                          result.bitsPerByte)
        }
    }

    private static func printResult(id: Int, _ summary: SessionSummary, peakResident: Int?) {
        let m = summary.metrics
        print("party \(id): result val_loss=\(summary.evaluation.loss) bits_per_byte=\(summary.evaluation.bitsPerByte) "
              + "turns=\(m.turns) bytes_sent=\(m.bytesSent) bytes_received=\(m.bytesReceived) rejected=\(m.messagesRejected) "
              + "peak_tensor_bytes=\(m.peakTotalBytes) vmhwm_bytes=\(peakResident.map(String.init) ?? "unknown") "
              + "rejoins=\(summary.rejoins) train_seconds=\(String(format: "%.3f", summary.trainingSeconds))")
    }

    /// Runs each job on its own thread and returns their outcomes in order.
    private static func runConcurrently(_ jobs: [() throws -> SessionSummary]) -> [Result<SessionSummary, Error>] {
        let box = OutcomeBox(count: jobs.count)
        let group = DispatchGroup()
        for (index, job) in jobs.enumerated() {
            group.enter()
            let thread = Thread {
                box.set(index, Result { try job() })
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return box.values
    }
}

/// Outcomes written by worker threads.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<SessionSummary, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<SessionSummary, Error>) { lock.withLock { slots[index] = value } }

    var values: [Result<SessionSummary, Error>] { lock.withLock { slots.map { $0! } } }
}
