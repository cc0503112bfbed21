import COpenBLAS
import Foundation
import PCMoECore

// Measures training-step throughput against cblas_sgemm's rate on this
// machine, in the same process and with the same thread count. Each timed
// step is followed by one timed 1024³ sgemm, so both medians come from the
// same stretch of time on a machine whose speed may drift.

struct BenchCase {
    let name: String
    let config: ModelConfig
    let batch: Int
}

let cases = [
    BenchCase(name: "small", config: ModelConfig(dModel: 64, heads: 2, layers: 2, experts: 4, topK: 2,
                                                 expertHidden: 128, sequence: 64), batch: 16),
    BenchCase(name: "reference", config: ModelConfig(), batch: 16),
]

let help = """
    Usage: pcmoe-bench [--steps N] [--threads N] [--only small|reference|collaboration|network]

    Measures training-step throughput of a small and the reference configuration
    (d_model 256, 4 heads, 4 layers, 8 experts, top-2, expert_hidden 512, seq_len 128,
    batch 16) against cblas_sgemm's rate at 1024x1024x1024, and prints a table.
    Each timed step is followed by one timed sgemm; the table gives medians.
    A second table compares a round of three in-process PC-MoE turns with three
    centralized steps of the reference configuration on the same batches, and gives
    the bytes sent between parties per trained token, for f32 and bf16 on the wire.

      --steps N       timed steps per configuration, and timed rounds per wire type,
                      after one untimed one (default 10)
      --threads N     threads for matrix products (default: OpenBLAS's choice)
      --only NAME     run one configuration only
    """

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
        : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// One 1024³ sgemm on fixed operands, reused across calls.
final class SgemmProbe {
    let n = 1024
    let a: Tensor, b: Tensor, c: Tensor

    init() {
        a = Tensor([n, n])
        b = Tensor([n, n])
        c = Tensor([n, n])
        for i in 0..<a.count {
            a[i] = Float(i % 7) * 0.1
            b[i] = Float(i % 5) * 0.1
        }
    }

    /// Returns GFLOP/s of one cblas_sgemm call with OpenBLAS's own threading
    /// at the math thread count. pcmoe keeps OpenBLAS single-threaded and
    /// splits products itself, so the setting is restored after the call.
    func rate() -> Double {
        openblas_set_num_threads(Int32(mathThreads))
        defer { openblas_set_num_threads(1) }
        let n32 = Int32(n)
        let time = seconds {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, a.data, n32, b.data, n32,
                        0, c.data, n32)
        }
        return 2 * Double(n * n * n) / time / 1e9
    }
}

/// Parameters a token touches: the backbone plus k experts per layer.
func activeParameters(_ c: ModelConfig) -> Int {
    let (d, v) = (c.dModel, ModelConfig.vocabulary)
    let perLayer = 4 * d * d + 2 * d + d * c.experts + c.topK * 3 * d * c.expertHidden
    return v * d + c.layers * perLayer + d + d * v
}

func peakResidentMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }
    return 0
}

func run(_ bench: BenchCase, steps: Int, probe: SgemmProbe) throws -> String {
    let ledger = MemoryLedger()
    let model = try MoEModel(config: bench.config, seed: 1, ledger: ledger)
    let optimizer = AdamW(parameters: model.weights, gradients: model.gradients, ledger: ledger)
    var rng = SplitMix64(seed: 5)
    let tokens = (0..<(bench.batch * (bench.config.sequence + 1))).map { _ in UInt8(rng.next() % 96 + 32) }
    func step() throws {
        model.gradients.zero()
        let pass = try model.forward(tokens: tokens, batch: bench.batch, training: true)
        try model.backward(pass)
        clipGradients(model.gradients, maxNorm: 1)
        optimizer.step(rate: 3e-4)
    }

    try step()  // untimed: first touch of every buffer and OpenBLAS's threads
    var stepTimes: [Double] = [], sgemmRates: [Double] = []
    for _ in 0..<steps {
        stepTimes.append(try seconds(step))
        sgemmRates.append(probe.rate())
    }

    let c = bench.config
    let tokensPerSecond = Double(bench.batch * c.sequence) / median(stepTimes)
    let flopsPerToken = 6 * Double(activeParameters(c)) + 12 * Double(c.layers * c.sequence * c.dModel)
    let gflops = tokensPerSecond * flopsPerToken / 1e9
    let sgemmRate = median(sgemmRates)
    let mib = { (kind: TensorKind) in String(format: "%.1f", Double(ledger.peakBytes(kind)) / 1_048_576) }
    return String(format: "| %@ | %.0f | %.1f | %.1f | %.0f %% | %@ | %@ | %@ | %@ | %.1f |",
                  bench.name, tokensPerSecond, gflops, sgemmRate, 100 * gflops / sgemmRate, mib(.parameters),
                  mib(.gradients), mib(.optimizerState), mib(.activations), peakResidentMiB())
}

if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print(help)
    exit(0)
}
// Keep freed tensor memory in the heap instead of returning it to the
// system after every step; see keepFreedMemory().
keepFreedMemory()
let steps = option("--steps").flatMap(Int.init).map { max($0, 1) } ?? 10
if let threads = option("--threads").flatMap(Int.init) { setMathThreads(threads) }
let only = option("--only")

let probe = SgemmProbe()
_ = probe.rate()
print("timed steps per configuration: \(steps); math threads: \(mathThreads)")
print("FLOPs per token: 6 × active parameters (backbone and k experts per layer) + 12·L·T·d")
print("")
print("| config | tokens/s | GFLOP/s | sgemm GFLOP/s | of sgemm | params MiB | grads MiB | optimizer MiB | activations MiB | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for bench in cases where only == nil || bench.name == only {
    print(try run(bench, steps: steps, probe: probe))
}
if only == nil || only == "collaboration" {
    try printCollaborationTable(cases.first { $0.name == "reference" }!, rounds: steps)
}
if only == nil || only == "network" {
    try printNetworkTable(cases.first { $0.name == "reference" }!, rounds: steps)
}
