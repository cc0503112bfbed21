import Foundation
import Testing

@testable import PCMoECore

/// Returns the configuration of party `id` of three: fixed backbone seeds, short
/// timeouts, nine turns of a tiny model.
private func sessionConfig(_ id: Int, steps: Int = 9) -> PartyConfig {
    var settings = PartySettings(id: id, partyCount: 3, session: 5)
    settings.backboneSeed = 100 + UInt64(id)
    settings.callTimeout = 2
    settings.callRetries = 1
    return PartyConfig(settings: settings, model: tinyConfig(experts: 6), training: collaborationOptions(steps: steps))
}

/// 600 seeded bytes of 20 letters: party `id`'s training text.
private func partyText(_ id: Int) -> [UInt8] {
    var rng = SplitMix64(seed: 40 + UInt64(id))
    return (0..<600).map { _ in UInt8(97 + rng.next() % 20) }
}

/// Three hosted parties with their own seeded text, not yet connected.
private func hostedParties(steps: Int = 9) throws -> [PartyHost] {
    try (0..<3).map { id in
        let host = try PartyHost(config: sessionConfig(id, steps: steps))
        try host.loadData(bytes: partyText(id), name: "text \(id)")
        return host
    }
}

/// Three hosted parties with their own seeded text, connected to `transport`.
private func hostedParties(_ transport: InProcessTransport, steps: Int = 9) throws -> [PartyHost] {
    let hosts = try hostedParties(steps: steps)
    for host in hosts { try transport.connect(host.party) }
    return hosts
}

/// Creates a runner for each host, with checkpoints in its own folder under `folder`.
private func runners(_ hosts: [PartyHost], folder: String, recorder: Recorder) throws -> [SessionRunner] {
    try hosts.map { host in
        try SessionRunner(host: host, options: SessionOptions(checkpointFolder: folder + "/party-\(host.party.id)"),
                          report: { [id = host.party.id] in recorder.record(id, $0) })
    }
}

/// Collects what runners report, from any thread.
private final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var losses: [UInt64: Double] = [:]
    private var events: [(Int, String)] = []

    func record(_ party: Int, _ event: SessionEvent) {
        lock.withLock {
            switch event {
            case .turn(let metrics): losses[metrics.turn] = metrics.loss
            case .fault(let reason): events.append((party, "fault: \(reason)"))
            case .joined(let turns, let resumed): events.append((party, "joined at \(turns), resumed \(resumed)"))
            case .saved(let turns): events.append((party, "saved \(turns)"))
            case .evaluated: events.append((party, "evaluated"))
            }
        }
    }

    var turnLosses: [UInt64: Double] { lock.withLock { losses } }
    var log: [(Int, String)] { lock.withLock { events } }
}

/// Runs a runner for each host on its own thread and returns each outcome.
private func runAll(_ runners: [SessionRunner]) -> [Result<SessionSummary, Error>] {
    let results = Results(count: runners.count)
    let group = DispatchGroup()
    for (index, runner) in runners.enumerated() {
        let thread = Thread {
            results.set(index, Result { try runner.run() })
            group.leave()
        }
        group.enter()
        thread.start()
    }
    group.wait()
    return results.all
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Result<SessionSummary, Error>?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<SessionSummary, Error>) { lock.withLock { values[index] = value } }

    var all: [Result<SessionSummary, Error>] { lock.withLock { values.map { $0! } } }
}

/// Returns the losses of turns 1 ... `steps` taken by hand in round-robin order.
private func manualLosses(steps: Int) throws -> [UInt64: Double] {
    let transport = InProcessTransport(partyCount: 3)
    let hosts = try hostedParties(transport, steps: steps)
    for host in hosts { try host.join() }
    var losses: [UInt64: Double] = [:]
    for turn in 1...UInt64(steps) {
        losses[turn] = try hosts[Int(turn - 1) % 3].trainTurn(turn).loss
    }
    return losses
}

@Test func sessionRunnerMatchesTurnsTakenByHand() throws {
    let folder = try TemporaryFolder()
    let transport = InProcessTransport(partyCount: 3)
    let hosts = try hostedParties(transport)
    let recorder = Recorder()
    let results = runAll(try runners(hosts, folder: folder.path, recorder: recorder))

    #expect(recorder.turnLosses == (try manualLosses(steps: 9)))
    for result in results {
        let summary = try result.get()
        #expect(summary.evaluation.loss.isFinite)
        #expect(summary.rejoins == 0)
        #expect(summary.metrics.expertSteps == 9)
    }
    for id in 0..<3 {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/party-\(id)").sorted()
        #expect(files == ["turns-00000006.safetensors", "turns-00000009.safetensors"])
    }
    #expect(recorder.log.allSatisfy { !$0.1.hasPrefix("fault") })
}

@Test func sessionOverZeroMQMatchesInProcess() throws {
    let folder = try TemporaryFolder()
    let network = try LoopbackNetwork(partyCount: 3, session: 5)
    defer { network.stop() }
    let hosts = try hostedParties()
    try network.start(hosts.map(\.party))
    let recorder = Recorder()
    let results = runAll(try runners(hosts, folder: folder.path, recorder: recorder))

    #expect(recorder.turnLosses == (try manualLosses(steps: 9)))
    for result in results { #expect(try result.get().metrics.bytesReceived > 0) }
    #expect(network.transports.allSatisfy { $0.rejectedConnections == 0 })
}

/// A transport that drops everything: what a killed process sends.
private final class DeadTransport: Transport, @unchecked Sendable {
    func send(_ bytes: [UInt8], to destination: Int) {}
}

/// Starts `runner` on its own thread; `done` receives the outcome.
private func start(_ runner: SessionRunner, group: DispatchGroup, done: @escaping @Sendable (Result<SessionSummary, Error>) -> Void) {
    group.enter()
    Thread {
        done(Result { try runner.run() })
        group.leave()
    }.start()
}

@Test func sessionResumesFromTheNewestCommonCheckpointAfterAPartyDies() throws {
    let folder = try TemporaryFolder()
    let transport = InProcessTransport(partyCount: 3)
    let hosts = try hostedParties(transport)
    let recorder = Recorder()
    var options = (0..<3).map { SessionOptions(checkpointFolder: folder.path + "/party-\($0)") }
    for i in 0..<3 { options[i].waitTimeout = 4 }
    options[1].joinTimeout = 3
    let runners = try (0..<3).map { id in
        try SessionRunner(host: hosts[id], options: options[id], report: { recorder.record(id, $0) })
    }

    // Party 1 dies as it sends the first request of turn 5: from then on it
    // sends nothing and nothing reaches it, until a new party 1 starts from
    // its checkpoint folder.
    let killed = DispatchSemaphore(value: 0)
    transport.intercept = { [old = hosts[1].party] destination, bytes in
        guard let envelope = try? Envelope.decode(bytes, maxBytes: 1 << 20) else { return bytes }
        if envelope.sender == 1, envelope.body.turn == 5, old.transport is InProcessTransport {
            old.transport = DeadTransport()
            killed.signal()
            return nil
        }
        return destination == 1 && !(old.transport is InProcessTransport) ? nil : bytes
    }
    let group = DispatchGroup()
    let outcomes = Outcomes()
    for id in 0..<3 { start(runners[id], group: group) { outcomes.set(id, $0) } }

    killed.wait()
    Thread.sleep(forTimeInterval: 0.5)
    let restarted = try PartyHost(config: sessionConfig(1))
    try restarted.loadData(bytes: partyText(1), name: "text 1")
    let runner = try SessionRunner(host: restarted, options: SessionOptions(checkpointFolder: folder.path + "/party-1"),
                                   report: { recorder.record(1, $0) })
    try transport.connect(restarted.party)
    transport.intercept = nil
    start(runner, group: group) { outcomes.set(3, $0) }
    group.wait()

    #expect(recorder.turnLosses == (try manualLosses(steps: 9)))
    #expect(throws: PCMoEError.self) { try outcomes.get(1).get() }
    for index in [0, 2, 3] {
        let summary = try outcomes.get(index).get()
        #expect(summary.metrics.expertSteps == 9)
    }
    #expect(try outcomes.get(0).get().rejoins == 1)
    let joins = recorder.log.filter { $0.1.hasPrefix("joined") }.map { "\($0.0) \($0.1)" }
    #expect(joins.filter { $0.hasSuffix("joined at 3, resumed true") }.count == 3)
}


private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Result<SessionSummary, Error>] = [:]

    func set(_ index: Int, _ value: Result<SessionSummary, Error>) { lock.withLock { values[index] = value } }

    func get(_ index: Int) -> Result<SessionSummary, Error> { lock.withLock { values[index]! } }
}

@Test func peakResidentSetCoversATouchedBuffer() throws {
    let before = try #require(ProcessMemory.peakResidentBytes())
    let size = before + (64 << 20)
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
    defer { buffer.deallocate() }
    memset(buffer, 1, size)
    let after = try #require(ProcessMemory.peakResidentBytes())
    #expect(after >= size)
}

@Test func sessionRefusesToStartOnAMismatchedSetting() throws {
    let folder = try TemporaryFolder()
    let transport = InProcessTransport(partyCount: 3)
    let hosts = try (0..<3).map { id in
        var config = sessionConfig(id)
        if id == 2 { config.training.learningRate = 5e-3 }
        let host = try PartyHost(config: config)
        try host.loadData(bytes: partyText(id), name: "text \(id)")
        try transport.connect(host.party)
        return host
    }
    let results = runAll(try runners(hosts, folder: folder.path, recorder: Recorder()))

    for (id, result) in results.enumerated() {
        #expect(throws: PCMoEError.self) { try result.get() }
        guard case .failure(let error) = result else { continue }
        #expect("\(error)".contains("learning_rate differs"), "party \(id): \(error)")
    }
    #expect(hosts.allSatisfy { $0.party.expertSteps == 0 })
}

/// Returns a session state of party 0 whose peer 1 joined with nonce 42 and sent its Hello.
private func readyState(handoffs: Recorded) -> SessionState {
    let state = SessionState(partyID: 0, partyCount: 2, steps: 10, checkpointEvery: 1)
    state.onHandoff = { handoffs.append($0) }
    _ = state.enterJoining(turnsSaved: 3)
    let hello = Hello(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), joinNonce: 42, turnsSaved: 3)
    _ = state.welcome(hello, from: 1, stepsTaken: 3)
    state.learn([1: Welcome(stepsTaken: 3, phase: .joining, joinNonce: 42, turns: 3)])
    state.enterReady(loadedTurns: 3)
    return state
}

private final class Recorded: @unchecked Sendable {
    private let lock = NSLock()
    private var turns: [UInt64] = []

    func append(_ turn: UInt64) { lock.withLock { turns.append(turn) } }

    var all: [UInt64] { lock.withLock { turns } }
}

@Test func joiningPartyServesNoTurn() throws {
    let state = SessionState(partyID: 0, partyCount: 2, steps: 10, checkpointEvery: 1)
    _ = state.enterJoining(turnsSaved: 0)
    #expect(throws: ErrorReply.self) { try state.admitRequest(from: 1, turn: nil) }

    let ready = readyState(handoffs: Recorded())
    try ready.admitRequest(from: 1, turn: nil)
    try ready.admitRequest(from: 1, turn: 4)
    // Turn 4 is party 1's, the turn in progress: no other turn, and not from party 0.
    #expect(throws: ErrorReply.self) { try ready.admitRequest(from: 1, turn: 6) }
    #expect(throws: ErrorReply.self) { try ready.admitRequest(from: 1, turn: 1_000_000_000) }
    #expect(throws: ErrorReply.self) { try ready.admitRequest(from: 0, turn: 4) }
    // Before running, a new Hello of party 1 carries its current nonce.
    let other = Hello(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), joinNonce: 43, turnsSaved: 3)
    _ = ready.welcome(other, from: 1, stepsTaken: 3)
    try ready.admitRequest(from: 1, turn: nil)

    // While running, a Hello of another join means party 1's requests are not this join's.
    ready.enterRunning()
    let third = Hello(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), joinNonce: 44, turnsSaved: 3)
    _ = ready.welcome(third, from: 1, stepsTaken: 3)
    #expect(throws: ErrorReply.self) { try ready.admitRequest(from: 1, turn: nil) }
}

@Test func handoffsApplyOnceInOrderAndOnlyFromTheCurrentJoin() throws {
    let handoffs = Recorded()
    let state = readyState(handoffs: handoffs)
    #expect(throws: ErrorReply.self) { try state.receiveHandoff(SessionNotice(turn: 4, joinNonce: 41), from: 1) }
    #expect(throws: ErrorReply.self) { try state.receiveHandoff(SessionNotice(turn: 5, joinNonce: 42), from: 1) }
    // Turn 4 is party 1's: party 1 may hand it off, and no party may hand off a turn past the run.
    #expect(throws: ErrorReply.self) { try state.receiveHandoff(SessionNotice(turn: 12, joinNonce: 42), from: 1) }
    try state.receiveHandoff(SessionNotice(turn: 4, joinNonce: 42), from: 1)
    try state.receiveHandoff(SessionNotice(turn: 4, joinNonce: 42), from: 1)
    #expect(handoffs.all == [4])
    #expect(state.waitForHandoff(of: 4, timeout: 0.01) == .done)
    #expect(state.waitForHandoff(of: 5, timeout: 0.01) == .timedOut)
}

@Test func runningPartyTakesANewNonceAsAFault() throws {
    let state = readyState(handoffs: Recorded())
    state.enterRunning()
    let same = Hello(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), joinNonce: 42, turnsSaved: 3)
    _ = state.welcome(same, from: 1, stepsTaken: 3)
    #expect(state.fault == nil)
    let restarted = Hello(partyCount: 2, config: tinyConfig(), options: collaborationOptions(), joinNonce: 7, turnsSaved: 3)
    _ = state.welcome(restarted, from: 1, stepsTaken: 3)
    #expect(state.fault == "party 1 joins the session again")
    #expect(state.waitForHandoff(of: 9, timeout: 5) == .fault("party 1 joins the session again"))
}

@Test func sessionOverPlainTCPMatchesInProcess() throws {
    let folder = try TemporaryFolder()
    let keys = try (0..<3).map { _ in try CurveKeyPair.generate() }
    let transports = try (0..<3).map {
        try ZeroMQTransport(id: $0, keys: keys[$0], endpoint: "tcp://127.0.0.1:*", allowedKeys: keys.map(\.publicKey),
                            insecurePlainTCP: true)
    }
    defer { for transport in transports { transport.stop() } }
    let deployment = try Deployment(session: 5, members: (0..<3).map {
        Deployment.Member(id: $0, endpoint: transports[$0].boundEndpoint, publicKey: keys[$0].publicKey)
    })
    let hosts = try hostedParties()
    for (host, transport) in zip(hosts, transports) { try transport.start(host.party, deployment: deployment) }
    let recorder = Recorder()
    let results = runAll(try runners(hosts, folder: folder.path, recorder: recorder))

    #expect(recorder.turnLosses == (try manualLosses(steps: 9)))
    for result in results { #expect(try result.get().metrics.bytesReceived > 0) }
}

@Test func handoffComesOnlyFromTheTaker() throws {
    let handoffs = Recorded()
    let state = SessionState(partyID: 0, partyCount: 3, steps: 30, checkpointEvery: 1)
    state.onHandoff = { handoffs.append($0) }
    _ = state.enterJoining(turnsSaved: 4)
    state.learn([1: Welcome(stepsTaken: 4, phase: .joining, joinNonce: 11, turns: 4),
                 2: Welcome(stepsTaken: 4, phase: .joining, joinNonce: 12, turns: 4)])
    state.enterReady(loadedTurns: 4)

    // Turn 5 belongs to party 1; party 2 cannot hand it off.
    #expect(throws: ErrorReply.self) { try state.receiveHandoff(SessionNotice(turn: 5, joinNonce: 12), from: 2) }
    #expect(handoffs.all.isEmpty)
    try state.receiveHandoff(SessionNotice(turn: 5, joinNonce: 11), from: 1)
    #expect(handoffs.all == [5])
}

/// Runners that a test can reach from a report callback.
private final class RunnerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var runners: [SessionRunner] = []

    func set(_ all: [SessionRunner]) { lock.withLock { runners = all } }

    func stopAll() { for runner in lock.withLock({ runners }) { runner.stop() } }
}

@Test func stoppedRunnersEndWithCancelled() throws {
    let folder = try TemporaryFolder()
    let transport = InProcessTransport(partyCount: 3)
    let hosts = try hostedParties(transport, steps: 60)
    let box = RunnerBox()
    let runners = try hosts.map { host in
        try SessionRunner(host: host, options: SessionOptions(checkpointFolder: folder.path + "/party-\(host.party.id)"),
                          report: { event in if case .turn(let m) = event, m.turn == 2 { box.stopAll() } })
    }
    box.set(runners)
    let results = runAll(runners)

    for result in results {
        guard case .failure(let error as PCMoEError) = result, case .cancelled = error else {
            Issue.record("expected a cancelled run, got \(result)")
            continue
        }
    }
    #expect(hosts.allSatisfy { $0.party.expertSteps < 60 })
}
