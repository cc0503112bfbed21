import COpenBLAS
import Foundation
import PCMoECore

// Measures training-step throughput against cblas_sgemm's rate on this
// machine, in the same process and with the same thread count.

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

func option(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]), v > 0 else { return value }
    return v
}

/// GFLOP/s of one n×n×n sgemm, best of `repeats`.
func sgemmRate(n: Int = 1024, repeats: Int = 10) -> Double {
    let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
    for i in 0..<a.count { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        sgemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return 2 * Double(n * n * n) / best / 1e9
}

/// Parameters a token touches: the backbone plus k experts per layer.
func activeParameters(_ c: ModelConfig) -> Int {
    let (d, v) = (c.dModel, ModelConfig.vocabulary)
    let perLayer = 4 * d * d + 2 * d + d * c.experts + c.topK * 3 * d * c.expertHidden
    return v * d + c.layers * perLayer + d + d * v
}

func peakResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

func run(_ bench: BenchCase, steps: Int, sgemmGFlops: Double) throws -> String {
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
    try step()  // warm-up: first-touch of buffers and OpenBLAS threads
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<steps { try step() }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let c = bench.config
    let tokensPerSecond = Double(steps * bench.batch * c.sequence) / seconds
    let flopsPerToken = 6 * Double(activeParameters(c)) + 12 * Double(c.layers * c.sequence * c.dModel)
    let gflops = tokensPerSecond * flopsPerToken / 1e9
    let mib = { (kind: TensorKind) in String(format: "%.1f", Double(ledger.peakBytes(kind)) / 1048576) }
    return String(format: "| %@ | %.0f | %.1f | %.0f %% | %@ | %@ | %@ | %@ | %.1f |",
                  bench.name, tokensPerSecond, gflops, 100 * gflops / sgemmGFlops, mib(.parameters),
                  mib(.gradients), mib(.optimizerState), mib(.activations), Double(peakResidentKiB()) / 1024)
}

if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print("""
        Usage: pcmoe-bench [--steps N] [--threads N] [--only small|reference]

        Measures training-step throughput of a small and the reference configuration
        (d_model 256, 4 heads, 4 layers, 8 experts, top-2, expert_hidden 512, seq_len 128,
        batch 16) against cblas_sgemm's rate at 1024x1024x1024, and prints a table.

          --steps N       timed steps per configuration, after one untimed step (default 10)
          --threads N     threads for matrix products (default: OpenBLAS's choice)
          --only NAME     run one configuration only
        """)
    exit(0)
}

// Keep freed tensor memory in the heap instead of returning it to the
// system after every step; see keepFreedMemory().
keepFreedMemory()
let steps = option("--steps", default: 10)
let threads = option("--threads", default: 0)
if threads > 0 { setMathThreads(threads) }
let rate = sgemmRate()
print(String(format: "cblas_sgemm 1024x1024x1024: %.1f GFLOP/s with %ld threads", rate, mathThreads))
print("timed steps per configuration: \(steps), batch 16")
print("")
print("| config | tokens/s | GFLOP/s | of sgemm | params MiB | grads MiB | optimizer MiB | activations MiB | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|")
let only = CommandLine.arguments.firstIndex(of: "--only").flatMap { i in
    i + 1 < CommandLine.arguments.count ? CommandLine.arguments[i + 1] : nil
}
for bench in cases where only == nil || bench.name == only {
    print(try run(bench, steps: steps, sgemmGFlops: rate))
}
