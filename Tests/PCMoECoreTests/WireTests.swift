import Foundation
import Testing
@testable import PCMoECore

/// The package root: the folder above Tests/PCMoECoreTests.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The row width of the sample tensors.
private let width = 8

/// Returns a [rows, columns] tensor of seeded normal values.
private func sampleTensor(rows: Int, columns: Int = width, seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor([rows, columns], values: (0..<rows * columns).map { _ in Float(rng.nextNormal()) })
}

/// Returns a Hello whose every size and setting differs from its default, so
/// that a field lost on the wire shows up as a difference.
private func sampleHello() -> Hello {
    let config = ModelConfig(dModel: 96, heads: 6, layers: 3, experts: 7, topK: 3, expertHidden: 200, sequence: 33)
    var options = TrainingOptions()
    options.steps = 123_456
    options.batch = 9
    options.learningRate = 1.5e-3
    options.warmupFraction = 0.125
    options.minLearningRateRatio = 0.03
    options.weightDecay = 0.07
    options.clipNorm = 0.75
    options.seed = UInt64.max - 5
    return Hello(partyCount: 5, config: config, options: options)
}

/// Returns one body of every message type with non-zero fields, plus bodies
/// whose fields are all zero or whose tensors have zero rows.
private func sampleBodies() -> [MessageBody] {
    [
        .hello(sampleHello()),
        .hello(Hello(partyCount: 2, config: sampleHello().config, options: sampleHello().options,
                     joinNonce: UInt64.max - 9, turnsSaved: 1 << 33, checkpointEvery: 4_000_000_000)),
        .welcome(Welcome(stepsTaken: (1 << 40) + 3)),
        .welcome(Welcome(stepsTaken: 0)),
        .welcome(Welcome(stepsTaken: 12, phase: .running, joinNonce: 0xFEED_0000_0000_0001, turns: 1 << 35)),
        .welcome(Welcome(stepsTaken: 0, phase: .joining, joinNonce: 1, turns: 0)),
        .handoff(SessionNotice(turn: (1 << 50) + 7, joinNonce: UInt64.max)),
        .handoff(SessionNotice(turn: 0, joinNonce: 0)),
        .handoffReply(turn: 81),
        .finished(SessionNotice(turn: 300, joinNonce: 0x1234_5678_9ABC_DEF0)),
        .finishedReply(turns: 300),
        .finishedReply(turns: 0),
        .exportRequest(layer: 3, expert: 11),
        .exportRequest(layer: 0, expert: 0),
        .exportReply(ExpertExport(layer: 2, expert: 5, stepsTaken: 1 << 36,
                                  gate: WireTensor(sampleTensor(rows: 2, seed: 7), dtype: .f32),
                                  up: WireTensor(sampleTensor(rows: 2, seed: 8), dtype: .f32),
                                  down: WireTensor(sampleTensor(rows: 3, seed: 9), dtype: .f32))),
        .forward(ExpertForwardRequest(turn: UInt64.max, layer: 2, experts: [0, 4, 4, 1, 3],
                                      rows: WireTensor(sampleTensor(rows: 5, seed: 1), dtype: .bf16), inference: true)),
        .forward(ExpertForwardRequest(turn: 3, layer: 1, experts: [],
                                      rows: WireTensor(Tensor([0, width]), dtype: .f32))),
        .forwardReply(LayerTensor(turn: 17, layer: 1, tensor: WireTensor(sampleTensor(rows: 3, seed: 2), dtype: .f16))),
        .backward(LayerTensor(turn: 17, layer: 3, tensor: WireTensor(sampleTensor(rows: 4, seed: 3), dtype: .f32))),
        .backwardReply(LayerTensor(turn: 17, layer: 0, tensor: WireTensor(Tensor([0, width]), dtype: .bf16))),
        .step(StepBody(turn: 9, globalStep: 9)),
        .stepReply(StepBody(turn: 9, globalStep: 10, gradientNorm: 1.234567890123e-3)),
        .abort(turn: 44),
        .abort(turn: 0),
        .abortReply(turn: 45),
        .error(ErrorReply(code: .notFinite, message: "rows hold NaN at row 2, column 5 (naïve ✓).", layer: 1)),
        .error(ErrorReply(code: .unspecified, message: "", layer: 0)),
    ]
}

/// Returns an envelope of `body` whose addressing fields are all far from zero.
private func sampleEnvelope(_ body: MessageBody) -> Envelope {
    Envelope(session: 0xDEAD_BEEF_0000_0001, sender: 2, receiver: 4_000_000_000, requestID: UInt64.max - 1, body: body)
}

/// Returns the relative error of `approximation` against a non-zero `exact`.
private func elementRelativeError(_ approximation: Float, _ exact: Float) -> Double {
    abs(Double(approximation) - Double(exact)) / abs(Double(exact))
}

/// Returns the bfloat16 nearest to a finite `value`, ties to the even
/// pattern, found by comparing the two candidates in Double arithmetic.
/// The comparison is exact because both candidates and `value` are floats.
private func nearestBFloat16(_ value: Float) -> UInt16 {
    let below = value.bitPattern & 0xFFFF_0000
    let above = below &+ 0x1_0000
    let belowValue = Double(Float(bitPattern: below))
    var aboveValue = Double(Float(bitPattern: above))
    if aboveValue.isInfinite {
        // Rounding overflows to infinity from half an ulp above the largest finite value.
        aboveValue = value < 0 ? -0x1p128 : 0x1p128
    }
    let belowDistance = abs(Double(value) - belowValue)
    let aboveDistance = abs(aboveValue - Double(value))
    if belowDistance != aboveDistance {
        return UInt16((belowDistance < aboveDistance ? below : above) >> 16)
    }
    return UInt16(((below >> 16) & 1 == 0 ? below : above) >> 16)
}

/// Float32 bit patterns and the bfloat16 patterns they must round to.
private let bfloat16Roundings: [(UInt32, UInt16)] = [
    (0x3F80_7FFF, 0x3F80),  // just below half an ulp: down
    (0x3F80_8000, 0x3F80),  // tie, even below: down
    (0x3F81_8000, 0x3F82),  // tie, odd below: up to even
    (0x3F80_8001, 0x3F81),  // just above half an ulp: up
    (0x3F81_7FFF, 0x3F81),
    (0xBF81_8000, 0xBF82),  // negative tie: away from zero to even
    (0xBF80_8000, 0xBF80),
    (0x3FFF_8000, 0x4000),  // the carry moves into the exponent
    (0x7F7F_7FFF, 0x7F7F),  // stays the largest finite value
    (0x7F7F_8000, 0x7F80),  // tie above the largest finite value: infinity
    (0xFF7F_FFFF, 0xFF80),
    (0x0000_8000, 0x0000),  // subnormal tie to even zero
    (0x0001_8000, 0x0002),  // subnormal tie to even
    (0x007F_FFFF, 0x0080),  // the largest subnormal rounds up to the smallest normal
    (0x8000_0000, 0x8000),  // -0 keeps its sign
    (0x7F80_0000, 0x7F80),  // infinities stay
    (0xFF80_0000, 0xFF80),
]

/// Values and the binary16 patterns they must encode to.
private let float16Patterns: [(Float, UInt16)] = [
    (1, 0x3C00),
    (-2, 0xC000),
    (65504, 0x7BFF),  // the largest finite binary16
    (65519, 0x7BFF),  // less than half an ulp above it
    (0x1p-14, 0x0400),  // the smallest normal
    (0x1p-24, 0x0001),  // the smallest subnormal
    (-0.0, 0x8000),
    (1 + 0x1p-11, 0x3C00),  // tie, even below: down
    (1 + 3 * 0x1p-11, 0x3C02),  // tie, odd below: up to even
    (1 + 0x1p-11 + 0x1p-20, 0x3C01),
    (0x1p-25, 0x0000),  // subnormal tie to even zero
    (3 * 0x1p-25, 0x0002),
]

/// Returns element `index` of a 16-bit wire tensor, read little-endian.
private func halfBits(_ tensor: WireTensor, _ index: Int) -> UInt16 {
    UInt16(tensor.data[2 * index]) | UInt16(tensor.data[2 * index + 1]) << 8
}

/// Returns the error that `body` throws as an ErrorReply, or nil when it returns.
private func wireError(_ body: () throws -> Void) -> ErrorReply? {
    do {
        try body()
        return nil
    } catch let rejection as ErrorReply {
        return rejection
    } catch {
        return ErrorReply(code: .internalError, message: "unexpected error type: \(error)")
    }
}

// MARK: - Running protoc and protoc-c

/// Returns the full path of the executable `name` from the directories of
/// PATH, then /usr/bin and /usr/local/bin, or nil when none has it.
private func executablePath(_ name: String) -> String? {
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let folders = searchPath.split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        + ["/usr/bin", "/usr/local/bin"]
    return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

private struct ToolResult {
    let status: Int32
    let output: [UInt8]
    let errors: String
}

private struct WireTestError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `executable` with `arguments` in `folder`, `input` on its standard
/// input, and returns its exit status, standard output and standard error.
///
/// The streams go through files, so a large output cannot block the tool
/// and a tool that exits without reading its input cannot stop the tests.
private func runTool(_ executable: String, _ arguments: [String], input: [UInt8] = [],
                     in folder: String) throws -> ToolResult {
    let streams = try TemporaryFolder()
    let inputPath = try streams.write("input", input)
    let outputPath = try streams.write("output", [UInt8]())
    let errorsPath = try streams.write("errors", [UInt8]())
    guard let inputHandle = FileHandle(forReadingAtPath: inputPath),
          let outputHandle = FileHandle(forWritingAtPath: outputPath),
          let errorsHandle = FileHandle(forWritingAtPath: errorsPath) else {
        throw WireTestError(description: "cannot open the stream files in \(streams.path)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    process.standardInput = inputHandle
    process.standardOutput = outputHandle
    process.standardError = errorsHandle
    try process.run()
    process.waitUntilExit()
    let output = try Data(contentsOf: URL(fileURLWithPath: outputPath))
    let errors = try Data(contentsOf: URL(fileURLWithPath: errorsPath))
    return ToolResult(status: process.terminationStatus, output: Array(output),
                      errors: String(decoding: errors, as: UTF8.self))
}

/// Returns the first line where `actual` and `expected` differ, with both
/// versions of it, or nil when the bytes are equal.
private func firstDifferingLine(_ actual: [UInt8], _ expected: [UInt8]) -> String? {
    guard actual != expected else { return nil }
    let newline = UInt8(ascii: "\n")
    let actualLines = actual.split(separator: newline, omittingEmptySubsequences: false)
    let expectedLines = expected.split(separator: newline, omittingEmptySubsequences: false)
    let common = min(actualLines.count, expectedLines.count)
    let line = (0..<common).first { actualLines[$0] != expectedLines[$0] } ?? common
    let show = { (lines: [ArraySlice<UInt8>]) in
        lines.indices.contains(line) ? String(decoding: lines[line], as: UTF8.self) : "<end of file>"
    }
    return "line \(line + 1): generated \"\(show(actualLines))\", checked in \"\(show(expectedLines))\""
}

// MARK: - Reading protoc's text format

/// A message as `protoc --decode` prints it: each scalar field under its
/// dotted path ("forward.rows.shape"), the values of a repeated field in
/// order, and the paths of the submessages present.
private struct PrintedMessage {
    var fields: [String: [String]] = [:]
    var messages: Set<String> = []

    init(parsing text: String) throws {
        var open: [String] = []
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line == "}" {
                guard open.popLast() != nil else { throw WireTestError(description: "unbalanced '}' in:\n\(text)") }
            } else if let colon = line.firstIndex(of: ":"), Self.isFieldName(line[..<colon]),
                      line[colon...].hasPrefix(": ") {
                let path = (open + [String(line[..<colon])]).joined(separator: ".")
                fields[path, default: []].append(String(line[line.index(colon, offsetBy: 2)...]))
            } else if line.hasSuffix(" {"), Self.isFieldName(line.dropLast(2)) {
                open.append(String(line.dropLast(2)))
                messages.insert(open.joined(separator: "."))
            } else {
                throw WireTestError(description: "unexpected line \"\(line)\" in:\n\(text)")
            }
        }
        guard open.isEmpty else { throw WireTestError(description: "unclosed message \(open) in:\n\(text)") }
    }

    private static func isFieldName(_ name: Substring) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

/// Returns the bytes of a quoted, C-escaped text-format string, or nil when
/// it uses an escape that protoc does not print.
private func unescapedBytes(_ quoted: String) -> [UInt8]? {
    let text = Array(quoted.utf8)
    let quote = UInt8(ascii: "\"")
    guard text.count >= 2, text.first == quote, text.last == quote else { return nil }
    let named: [UInt8: UInt8] = [UInt8(ascii: "n"): 10, UInt8(ascii: "r"): 13, UInt8(ascii: "t"): 9,
                                 quote: quote, UInt8(ascii: "'"): UInt8(ascii: "'"),
                                 UInt8(ascii: "\\"): UInt8(ascii: "\\")]
    let octal = UInt8(ascii: "0")...UInt8(ascii: "7")
    var bytes: [UInt8] = []
    var i = 1
    let end = text.count - 1
    while i < end {
        guard text[i] == UInt8(ascii: "\\") else {
            bytes.append(text[i])
            i += 1
            continue
        }
        guard i + 1 < end else { return nil }
        if let byte = named[text[i + 1]] {
            bytes.append(byte)
            i += 2
        } else if octal.contains(text[i + 1]) {
            var value = 0
            var digits = 0
            while digits < 3, i + 1 + digits < end, octal.contains(text[i + 1 + digits]) {
                value = value * 8 + Int(text[i + 1 + digits] - UInt8(ascii: "0"))
                digits += 1
            }
            guard value <= 255 else { return nil }
            bytes.append(UInt8(value))
            i += 1 + digits
        } else {
            return nil
        }
    }
    return bytes
}

/// The names protoc prints for the DType values, by raw value.
private let dtypeNames = ["DTYPE_F32", "DTYPE_BF16", "DTYPE_F16"]

/// The names protoc prints for the SessionPhase values, by raw value.
private let phaseNames = ["SESSION_PHASE_UNSPECIFIED", "SESSION_PHASE_JOINING", "SESSION_PHASE_READY", "SESSION_PHASE_RUNNING"]

/// The names protoc prints for the ErrorCode values, by raw value.
private let errorCodeNames = ["ERROR_CODE_UNSPECIFIED", "ERROR_CODE_MALFORMED", "ERROR_CODE_VERSION",
                              "ERROR_CODE_SESSION", "ERROR_CODE_INVALID_REQUEST", "ERROR_CODE_NOT_FINITE",
                              "ERROR_CODE_STATE", "ERROR_CODE_MISMATCH", "ERROR_CODE_INTERNAL", "ERROR_CODE_REFUSED"]

/// What `protoc --decode` must print for an envelope. As in the proto3 text
/// format, a scalar field equal to zero, false or the empty string is absent.
private struct ExpectedPrint {
    /// Integer, bool and enum fields, exactly as printed.
    var words: [String: [String]] = [:]
    var doubles: [String: Double] = [:]
    /// Bytes and string fields, unescaped.
    var bytes: [String: [UInt8]] = [:]
    var messages: Set<String> = []

    init(_ envelope: Envelope) {
        integer("protocol_version", envelope.version)
        integer("session", envelope.session)
        integer("sender", envelope.sender)
        integer("receiver", envelope.receiver)
        integer("request_id", envelope.requestID)
        switch envelope.body {
        case .hello(let hello):
            message("hello")
            integer("hello.party_count", hello.partyCount)
            message("hello.sizes")
            let c = hello.config
            for (name, value) in [("d_model", c.dModel), ("n_heads", c.heads), ("n_layers", c.layers),
                                  ("n_experts", c.experts), ("top_k", c.topK), ("expert_hidden", c.expertHidden),
                                  ("seq_len", c.sequence)] {
                integer("hello.sizes." + name, value)
            }
            message("hello.run")
            let o = hello.options
            integer("hello.run.total_steps", o.steps)
            integer("hello.run.seed", o.seed)
            integer("hello.run.batch", o.batch)
            doubles["hello.run.learning_rate"] = o.learningRate
            doubles["hello.run.warmup_fraction"] = o.warmupFraction
            doubles["hello.run.min_lr_ratio"] = o.minLearningRateRatio
            doubles["hello.run.weight_decay"] = o.weightDecay
            doubles["hello.run.clip_norm"] = o.clipNorm
            integer("hello.join_nonce", hello.joinNonce)
            integer("hello.turns_saved", hello.turnsSaved)
            integer("hello.checkpoint_every", hello.checkpointEvery)
        case .welcome(let welcome):
            message("welcome")
            integer("welcome.steps_taken", welcome.stepsTaken)
            words["welcome.phase"] = welcome.phase == .none ? [] : [phaseNames[welcome.phase.rawValue]]
            integer("welcome.join_nonce", welcome.joinNonce)
            integer("welcome.turns", welcome.turns)
        case .handoff(let notice):
            message("handoff")
            integer("handoff.turn", notice.turn)
            integer("handoff.join_nonce", notice.joinNonce)
        case .handoffReply(let turn):
            message("handoff_reply")
            integer("handoff_reply.turn", turn)
        case .finished(let notice):
            message("finished")
            integer("finished.turns", notice.turn)
            integer("finished.join_nonce", notice.joinNonce)
        case .finishedReply(let turns):
            message("finished_reply")
            integer("finished_reply.turns", turns)
        case .exportRequest(let layer, let expert):
            message("export_request")
            integer("export_request.layer", layer)
            integer("export_request.expert", expert)
        case .exportReply(let reply):
            message("export_reply")
            integer("export_reply.layer", reply.layer)
            integer("export_reply.expert", reply.expert)
            integer("export_reply.steps_taken", reply.stepsTaken)
            tensor("export_reply.gate", reply.gate)
            tensor("export_reply.up", reply.up)
            tensor("export_reply.down", reply.down)
        case .forward(let request):
            message("forward")
            integer("forward.turn", request.turn)
            integer("forward.layer", request.layer)
            words["forward.experts"] = request.experts.map(String.init)
            words["forward.inference"] = request.inference ? ["true"] : []
            tensor("forward.rows", request.rows)
        case .forwardReply(let body):
            layerTensor("forward_reply", "outputs", body)
        case .backward(let body):
            layerTensor("backward", "output_gradients", body)
        case .backwardReply(let body):
            layerTensor("backward_reply", "input_gradients", body)
        case .step(let step):
            message("step")
            integer("step.turn", step.turn)
            integer("step.global_step", step.globalStep)
        case .stepReply(let step):
            message("step_reply")
            integer("step_reply.turn", step.turn)
            integer("step_reply.global_step", step.globalStep)
            doubles["step_reply.gradient_norm"] = step.gradientNorm
        case .abort(let turn):
            message("abort")
            integer("abort.turn", turn)
        case .abortReply(let turn):
            message("abort_reply")
            integer("abort_reply.turn", turn)
        case .error(let rejection):
            message("error")
            words["error.code"] = rejection.code == .unspecified ? [] : [errorCodeNames[rejection.code.rawValue]]
            bytes["error.message"] = Array(rejection.message.utf8)
            integer("error.layer", rejection.layer)
        }
    }

    private mutating func integer(_ path: String, _ value: some BinaryInteger) {
        words[path] = value == 0 ? [] : [String(value)]
    }

    private mutating func message(_ path: String) {
        messages.insert(path)
    }

    private mutating func tensor(_ path: String, _ tensor: WireTensor) {
        message(path)
        words[path + ".dtype"] = tensor.dtype == .f32 ? [] : [dtypeNames[tensor.dtype.rawValue]]
        words[path + ".shape"] = tensor.shape.map(String.init)
        bytes[path + ".data"] = tensor.data
    }

    private mutating func layerTensor(_ name: String, _ tensorField: String, _ body: LayerTensor) {
        message(name)
        integer(name + ".turn", body.turn)
        integer(name + ".layer", body.layer)
        tensor(name + "." + tensorField, body.tensor)
    }

    /// Records an issue for each field that `printed` lacks, adds or prints differently.
    func check(_ printed: PrintedMessage, frame: String) {
        for (path, expected) in words.sorted(by: { $0.key < $1.key }) {
            #expect((printed.fields[path] ?? []) == expected, "\(frame): field \(path)")
        }
        for (path, expected) in doubles.sorted(by: { $0.key < $1.key }) {
            let values = printed.fields[path] ?? []
            let value = values.isEmpty ? 0 : Double(values[0])
            #expect(values.count <= 1, "\(frame): field \(path) is printed \(values.count) times")
            #expect(value == expected, "\(frame): field \(path) is printed as \(values)")
        }
        for (path, expected) in bytes.sorted(by: { $0.key < $1.key }) {
            let values = printed.fields[path] ?? []
            let value = values.isEmpty ? [] : unescapedBytes(values[0])
            #expect(values.count <= 1, "\(frame): field \(path) is printed \(values.count) times")
            #expect(value == expected, "\(frame): field \(path) is printed as \(values)")
        }
        let known = Set(words.keys).union(doubles.keys).union(bytes.keys)
        let unexpected = Set(printed.fields.keys).subtracting(known).sorted()
        #expect(unexpected.isEmpty, "\(frame): protoc printed fields \(unexpected) that the Swift envelope lacks")
        #expect(printed.messages == messages, "\(frame): messages \(printed.messages.sorted()), expected \(messages.sorted())")
    }
}

/// Decodes `frame` with `protoc --decode=pcmoe.v1.Envelope` and checks every
/// printed field against `envelope`.
private func checkWithProtoc(_ protoc: String, frame: [UInt8], against envelope: Envelope, name: String) throws {
    let result = try runTool(protoc, ["--proto_path=\(packageRoot)/proto", "--decode=pcmoe.v1.Envelope", "pcmoe.proto"],
                             input: frame, in: packageRoot)
    try #require(result.status == 0, "protoc --decode failed on \(name): \(result.errors)")
    let printed = try PrintedMessage(parsing: String(decoding: result.output, as: UTF8.self))
    ExpectedPrint(envelope).check(printed, frame: name)
}

/// Every message that `intercept` saw, with the party it was going to.
private final class CapturedFrames: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [(destination: Int, bytes: [UInt8])] = []

    func append(_ bytes: [UInt8], to destination: Int) {
        lock.withLock { frames.append((destination, bytes)) }
    }

    var all: [(destination: Int, bytes: [UInt8])] { lock.withLock { frames } }
}

@Suite struct WireTests {
    // MARK: Round trips

    @Test(arguments: sampleBodies())
    func envelopeRoundTrip(body: MessageBody) throws {
        let envelope = sampleEnvelope(body)
        let bytes = envelope.encoded()
        let decoded = try Envelope.decode(bytes, maxBytes: bytes.count)
        #expect(decoded.version == protocolVersion)
        #expect(decoded.session == 0xDEAD_BEEF_0000_0001)
        #expect(decoded.sender == 2)
        #expect(decoded.receiver == 4_000_000_000)
        #expect(decoded.requestID == UInt64.max - 1)
        #expect(decoded.body.name == body.name)
        #expect(decoded.body == body)
        #expect(decoded.encoded() == bytes, "encoding the decoded envelope must give the same bytes")
    }

    @Test func addressingFieldsRoundTripAtLimits() throws {
        let zero = Envelope(session: 0, sender: 0, receiver: 0, requestID: 0, body: .abort(turn: 0), version: 0)
        let limits = Envelope(session: .max, sender: .max, receiver: .max, requestID: .max,
                              body: .abortReply(turn: .max), version: .max)
        for envelope in [zero, limits] {
            let decoded = try Envelope.decode(envelope.encoded(), maxBytes: 1 << 20)
            #expect(decoded.version == envelope.version)
            #expect(decoded.session == envelope.session)
            #expect(decoded.sender == envelope.sender)
            #expect(decoded.receiver == envelope.receiver)
            #expect(decoded.requestID == envelope.requestID)
            #expect(decoded.body == envelope.body)
        }
    }

    @Test(arguments: WireErrorCode.allCases)
    func errorReplyRoundTrip(code: WireErrorCode) throws {
        let rejection = ErrorReply(code: code, message: "code \(code.rawValue) of layer 7", layer: 7)
        let decoded = try Envelope.decode(sampleEnvelope(.error(rejection)).encoded(), maxBytes: 1 << 20)
        guard case .error(let received) = decoded.body else {
            Issue.record("decoded a \(decoded.body.name) instead of an ErrorReply")
            return
        }
        #expect(received.code == code)
        #expect(received.message == rejection.message)
        #expect(received.layer == 7)
    }

    @Test(arguments: WireDType.allCases, [0, 1, 7])
    func tensorRoundTrip(dtype: WireDType, rows: Int) throws {
        let values = sampleTensor(rows: rows, seed: UInt64(10 + rows))
        let tensor = WireTensor(values, dtype: dtype)
        #expect(tensor.dtype == dtype)
        #expect(tensor.shape == [UInt64(rows), UInt64(width)])
        #expect(tensor.data.count == rows * width * dtype.size)

        let experts = (0..<rows).map { UInt32($0 % 3) }
        let bodies: [MessageBody] = [
            .forward(ExpertForwardRequest(turn: 5, layer: 1, experts: experts, rows: tensor)),
            .forwardReply(LayerTensor(turn: 5, layer: 1, tensor: tensor)),
            .backward(LayerTensor(turn: 5, layer: 1, tensor: tensor)),
            .backwardReply(LayerTensor(turn: 5, layer: 1, tensor: tensor)),
        ]
        for body in bodies {
            let decoded = try Envelope.decode(sampleEnvelope(body).encoded(), maxBytes: 1 << 20)
            let received: WireTensor
            switch decoded.body {
            case .forward(let request):
                #expect(request.turn == 5)
                #expect(request.layer == 1)
                #expect(!request.inference)
                #expect(request.experts == experts)
                received = request.rows
            case .forwardReply(let layerBody), .backward(let layerBody), .backwardReply(let layerBody):
                #expect(layerBody.turn == 5)
                #expect(layerBody.layer == 1)
                received = layerBody.tensor
            default:
                Issue.record("sent a \(body.name), decoded a \(decoded.body.name)")
                continue
            }
            #expect(decoded.body.name == body.name)
            #expect(received.dtype == dtype)
            #expect(received.shape == tensor.shape)
            #expect(received.data == tensor.data)

            let back = try received.decode(rows: rows, columns: width, what: "the \(body.name)")
            #expect(back.shape == [rows, width])
            let bound = [WireDType.f32: 0.0, .bf16: 0x1p-8, .f16: 0x1p-11][dtype]!
            let worst = (0..<values.count).map { elementRelativeError(back[$0], values[$0]) }.max() ?? 0
            #expect(worst <= bound, "\(dtype) relative error \(worst)")
        }
    }

    @Test func forwardRequestWithoutRowsRoundTrips() throws {
        let empty = ExpertForwardRequest(turn: 8, layer: 1, experts: [],
                                         rows: WireTensor(Tensor([0, width]), dtype: .bf16))
        #expect(empty.rows.shape == [0, UInt64(width)])
        #expect(empty.rows.data.isEmpty)
        let decoded = try Envelope.decode(sampleEnvelope(.forward(empty)).encoded(), maxBytes: 1 << 20)
        guard case .forward(let request) = decoded.body else {
            Issue.record("decoded a \(decoded.body.name) instead of an ExpertForwardRequest")
            return
        }
        #expect(request.turn == 8)
        #expect(request.layer == 1)
        #expect(request.experts.isEmpty)
        #expect(request.rows.dtype == .bf16)
        #expect(request.rows.shape == [0, UInt64(width)])
        #expect(request.rows.data.isEmpty)
        #expect(!request.inference)
        let rows = try request.rows.decode(rows: 0, columns: width, what: "rows")
        #expect(rows.shape == [0, width])
        #expect(rows.count == 0)
    }

    // MARK: Malformed frames

    @Test func malformedFramesAreRejected() {
        let valid = sampleEnvelope(.abort(turn: 3)).encoded()
        let oversized = wireError { _ = try Envelope.decode(valid, maxBytes: valid.count - 1) }
        #expect(oversized?.code == .malformed)
        #expect(oversized?.message.contains("\(valid.count) bytes") == true, "\(oversized?.message ?? "no error")")

        #expect(wireError { _ = try Envelope.decode([0xFF, 0xFF, 0xFF], maxBytes: 100) }?.code == .malformed)
        #expect(wireError { _ = try Envelope.decode(Array(valid.dropLast()), maxBytes: 100) }?.code == .malformed)

        // protocol_version 1 and nothing else: an envelope without a message.
        let bodiless = wireError { _ = try Envelope.decode([0x08, 0x01], maxBytes: 100) }
        #expect(bodiless?.code == .malformed)
        #expect(bodiless?.message.contains("no message") == true, "\(bodiless?.message ?? "no error")")

        #expect(wireError { _ = try Envelope.decode([], maxBytes: 100) }?.code == .malformed)

        // hello (field 10) without its sizes and run settings.
        let emptyHello = wireError { _ = try Envelope.decode([0x08, 0x01, 0x52, 0x00], maxBytes: 100) }
        #expect(emptyHello?.code == .malformed)
        #expect(emptyHello?.message.contains("lacks its sizes") == true, "\(emptyHello?.message ?? "no error")")

        // forward_reply (field 13) whose outputs (field 3) has dtype 9.
        let unknownType = wireError { _ = try Envelope.decode([0x08, 0x01, 0x6A, 0x04, 0x1A, 0x02, 0x08, 0x09], maxBytes: 100) }
        #expect(unknownType?.code == .malformed)
        #expect(unknownType?.message.contains("dtype 9") == true, "\(unknownType?.message ?? "no error")")
    }

    @Test func tensorDecodeRejectsWrongShapeOrByteCount() {
        let tensor = WireTensor(sampleTensor(rows: 2, seed: 4), dtype: .f16)
        #expect(wireError { _ = try tensor.decode(rows: 2, columns: width, what: "rows") } == nil)
        #expect(wireError { _ = try tensor.decode(rows: 3, columns: width, what: "rows") }?.code == .invalidRequest)
        #expect(wireError { _ = try tensor.decode(rows: 2, columns: width + 1, what: "rows") }?.code == .invalidRequest)

        var flat = tensor
        flat.shape = [UInt64(2 * width)]
        #expect(wireError { _ = try flat.decode(rows: 2, columns: width, what: "rows") }?.code == .invalidRequest)

        var short = tensor
        short.data.removeLast()
        let rejection = wireError { _ = try short.decode(rows: 2, columns: width, what: "rows") }
        #expect(rejection?.code == .invalidRequest)
        #expect(rejection?.message.contains("31 bytes") == true, "\(rejection?.message ?? "no error")")

        var relabelled = tensor
        relabelled.dtype = .f32
        #expect(wireError { _ = try relabelled.decode(rows: 2, columns: width, what: "rows") }?.code == .invalidRequest)
    }

    // MARK: bf16 and f16 conversion

    @Test func bfloat16KeepsEveryRepresentableValueExactly() throws {
        // Every finite bfloat16, as the float32 with the same upper half.
        let patterns = (0...UInt32(0xFFFF)).filter { ($0 >> 7) & 0xFF != 0xFF }.map { $0 << 16 }
        let values = patterns.map { Float(bitPattern: $0) }
        let tensor = WireTensor(Tensor([values.count, 1], values: values), dtype: .bf16)
        let wrongBytes = patterns.indices.filter { halfBits(tensor, $0) != UInt16(patterns[$0] >> 16) }
        #expect(wrongBytes.isEmpty, "\(wrongBytes.count) patterns encode wrongly, first at \(wrongBytes.prefix(5).map { patterns[$0] })")
        let back = try tensor.decode(rows: values.count, columns: 1, what: "bf16 values")
        let changed = patterns.indices.filter { back[$0].bitPattern != patterns[$0] }
        #expect(changed.isEmpty, "\(changed.count) patterns change, first \(changed.prefix(5).map { patterns[$0] })")
    }

    @Test(arguments: bfloat16Roundings)
    func bfloat16RoundsToNearestEven(input: UInt32, expected: UInt16) {
        let value = Float(bitPattern: input)
        #expect(bfloat16Bits(value) == expected)
        if value.isFinite {
            #expect(nearestBFloat16(value) == expected, "the reference rounding disagrees with the table")
        }
        let tensor = WireTensor(Tensor([1, 1], values: [value]), dtype: .bf16)
        #expect(tensor.data == [UInt8(expected & 0xFF), UInt8(expected >> 8)], "the bytes are not little-endian")
    }

    @Test func bfloat16MatchesNearestEvenOnRandomFloats() {
        var rng = SplitMix64(seed: 21)
        var wrong: [UInt32] = []
        for _ in 0..<50_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let value = Float(bitPattern: bits)
            guard value.isFinite else { continue }
            if bfloat16Bits(value) != nearestBFloat16(value) { wrong.append(bits) }
        }
        #expect(wrong.isEmpty, "\(wrong.count) floats round wrongly, first \(wrong.prefix(5))")
    }

    @Test(arguments: [0x7FC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF, 0xFFC0_0000] as [UInt32])
    func bfloat16NaNIsKeptThenRejected(input: UInt32) {
        let bits = bfloat16Bits(Float(bitPattern: input))
        #expect(bits & 0x7F80 == 0x7F80, "NaN \(input) became \(bits), whose exponent is not all ones")
        #expect(bits & 0x007F != 0, "NaN \(input) became \(bits), whose mantissa is zero")
        #expect(bits >> 15 == UInt16(input >> 31), "NaN \(input) lost its sign")
        let tensor = WireTensor(Tensor([1, 1], values: [Float(bitPattern: input)]), dtype: .bf16)
        #expect(wireError { _ = try tensor.decode(rows: 1, columns: 1, what: "rows") }?.code == .notFinite)
    }

    @Test func float16KeepsEveryRepresentableValueExactly() throws {
        // Every finite binary16 pattern, widened to float32 (which is exact).
        let patterns = (0...UInt16(0xFFFF)).filter { $0 & 0x7C00 != 0x7C00 }
        let values = patterns.map { Float(Float16(bitPattern: $0)) }
        let tensor = WireTensor(Tensor([values.count, 1], values: values), dtype: .f16)
        let wrongBytes = patterns.indices.filter { halfBits(tensor, $0) != patterns[$0] }
        #expect(wrongBytes.isEmpty, "\(wrongBytes.count) patterns encode wrongly, first \(wrongBytes.prefix(5).map { patterns[$0] })")
        let back = try tensor.decode(rows: values.count, columns: 1, what: "f16 values")
        let changed = patterns.indices.filter { back[$0].bitPattern != values[$0].bitPattern }
        #expect(changed.isEmpty, "\(changed.count) values change, first \(changed.prefix(5).map { patterns[$0] })")
    }

    @Test(arguments: float16Patterns)
    func float16EncodesKnownPatterns(value: Float, expected: UInt16) {
        let tensor = WireTensor(Tensor([1, 1], values: [value]), dtype: .f16)
        #expect(halfBits(tensor, 0) == expected)
    }

    @Test(arguments: [Float(65520), 70_000, 1e6, Float.greatestFiniteMagnitude, -65520, -1e30] as [Float])
    func float16OverflowBecomesInfinityAndIsRejected(value: Float) {
        let tensor = WireTensor(Tensor([2, 3], values: [0.5, -1, 2, 3, value, 4]), dtype: .f16)
        #expect(halfBits(tensor, 4) == (value > 0 ? 0x7C00 : 0xFC00))
        let rejection = wireError { _ = try tensor.decode(rows: 2, columns: 3, what: "the rows") }
        #expect(rejection?.code == .notFinite)
        #expect(rejection?.message.contains("row 1, column 1") == true, "\(rejection?.message ?? "no error")")
    }

    @Test func nonFiniteF32IsRejected() {
        for value in [Float.nan, .infinity, -.infinity] {
            let tensor = WireTensor(Tensor([1, 2], values: [1, value]), dtype: .f32)
            let rejection = wireError { _ = try tensor.decode(rows: 1, columns: 2, what: "rows") }
            #expect(rejection?.code == .notFinite, "\(value)")
            #expect(rejection?.message.contains("row 0, column 1") == true, "\(rejection?.message ?? "no error")")
        }
    }

    @Test func randomValuesStayWithinErrorBounds() throws {
        var rng = SplitMix64(seed: 33)
        let randomFloat = { (rng: inout SplitMix64, exponents: ClosedRange<Int>) -> Float in
            let significand = 1 + Float(rng.next() >> 41) * 0x1p-23
            let exponent = exponents.lowerBound + Int(rng.next() % UInt64(exponents.count))
            return Float(sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: exponent, significand: significand)
        }
        let count = 20_000
        // bfloat16 normals span the float32 exponents. The top exponent is left out so that nothing rounds to infinity.
        let wide = (0..<count).map { _ in randomFloat(&rng, -126...126) }
        // binary16 normals span [2^-14, 65504].
        let narrow = (0..<count).map { _ in randomFloat(&rng, -14...15) }.filter { abs($0) <= 65504 }
        for (dtype, values, bound) in [(WireDType.bf16, wide, 0x1p-8), (.f16, narrow, 0x1p-11)] {
            let tensor = WireTensor(Tensor([values.count, 1], values: values), dtype: dtype)
            let back = try tensor.decode(rows: values.count, columns: 1, what: "\(dtype) values")
            let worst = values.indices.max { elementRelativeError(back[$0], values[$0]) < elementRelativeError(back[$1], values[$1]) }!
            let error = elementRelativeError(back[worst], values[worst])
            #expect(error <= bound, "\(dtype): \(values[worst]) became \(back[worst]), relative error \(error)")
            #expect(error > bound / 4, "\(dtype): the largest relative error \(error) is far below the bound, so the rounding was not exercised")
        }
    }

    // MARK: Agreement with protoc

    @Test func checkedInCCodeMatchesProtocC() throws {
        guard let protocC = executablePath("protoc-c") else {
            Issue.record("""
                protoc-c was not found in PATH, /usr/bin or /usr/local/bin, so the checked-in code in \
                Sources/CPCMoEWire cannot be compared with a fresh generation; `make deps` installs it \
                (Debian package protobuf-c-compiler).
                """)
            return
        }
        let output = try TemporaryFolder()
        let result = try runTool(protocC, ["--proto_path=proto", "--c_out=\(output.path)", "proto/pcmoe.proto"],
                                 in: packageRoot)
        try #require(result.status == 0, "protoc-c exited with status \(result.status): \(result.errors)")
        #expect(try output.entryNames() == ["pcmoe.pb-c.c", "pcmoe.pb-c.h"])
        for (generated, checkedIn) in [("pcmoe.pb-c.c", "Sources/CPCMoEWire/pcmoe.pb-c.c"),
                                       ("pcmoe.pb-c.h", "Sources/CPCMoEWire/include/pcmoe.pb-c.h")] {
            let fresh = try Array(Data(contentsOf: URL(fileURLWithPath: output.path + "/" + generated)))
            let stored = try Array(Data(contentsOf: URL(fileURLWithPath: packageRoot + "/" + checkedIn)))
            let difference = firstDifferingLine(fresh, stored)
            #expect(difference == nil, """
                \(checkedIn) differs from what protoc-c generates from proto/pcmoe.proto at \
                \(difference ?? ""); run `make proto` and commit the result.
                """)
        }
    }

    @Test func protocDecodesEverySampleBody() throws {
        guard let protoc = executablePath("protoc") else {
            Issue.record("protoc was not found in PATH, /usr/bin or /usr/local/bin; `make deps` installs it (Debian package protobuf-compiler).")
            return
        }
        for (index, body) in sampleBodies().enumerated() {
            let envelope = sampleEnvelope(body)
            try checkWithProtoc(protoc, frame: envelope.encoded(), against: envelope, name: "sample \(index), \(body.name)")
        }
    }

    @Test func protocDecodesTrainingTurnMessages() throws {
        guard let protoc = executablePath("protoc") else {
            Issue.record("protoc was not found in PATH, /usr/bin or /usr/local/bin; `make deps` installs it (Debian package protobuf-compiler).")
            return
        }
        let config = tinyConfig(experts: 5)
        let session = try InProcessSession(partyCount: 3, config: config, options: collaborationOptions())
        let log = CapturedFrames()
        session.transport.intercept = { destination, bytes in
            log.append(bytes, to: destination)
            return bytes
        }
        _ = try session.parties[0].trainTurn(tokens: randomTokens(config, batch: 2, seed: 3), turn: 1)
        session.transport.intercept = nil

        var counts: [String: Int] = [:]
        for (index, frame) in log.all.enumerated() {
            let envelope = try Envelope.decode(frame.bytes, maxBytes: frame.bytes.count)
            counts[envelope.body.name, default: 0] += 1
            #expect(Int(envelope.receiver) == frame.destination, "frame \(index) went to party \(frame.destination)")
            try checkWithProtoc(protoc, frame: frame.bytes, against: envelope,
                                name: "frame \(index), \(envelope.body.name) from party \(envelope.sender)")
        }
        for name in ["ExpertForwardRequest", "ExpertForwardReply", "ExpertBackwardRequest", "ExpertBackwardReply",
                     "StepRequest", "StepReply"] {
            #expect(counts[name, default: 0] >= 1, "no \(name) was captured; captured \(counts)")
        }
        #expect(counts["ErrorReply"] == nil, "a party rejected a request of the turn: \(counts)")
    }
}

extension WireTests {
    @Test func messageOfANewerVersionIsNamedAsSuch() throws {
        // A newer sender's message that this build cannot parse reads as an
        // envelope without a body; its version, not the body, is the error.
        var future = Envelope(session: 3, sender: 0, receiver: 1, requestID: 4, body: .welcome(Welcome(stepsTaken: 0)),
                              version: 2).encoded()
        future.removeLast(2)  // drop the empty Welcome (tag and length), keep the header fields
        do {
            _ = try Envelope.decode(future, maxBytes: 1000)
            Issue.record("an envelope without a body decoded")
        } catch let refusal as ErrorReply {
            #expect(refusal.code == .version && refusal.message.contains("version 2"), "\(refusal.message)")
        }
    }
}
