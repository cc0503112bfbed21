// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "pcmoe",
    products: [
        .library(name: "PCMoECore", targets: ["PCMoECore"]),
        // libpcmoe.so: `make lib` links it with the Swift runtime inside,
        // its SONAME and a version script that exports only pcmoe_*.
        .library(name: "pcmoe-abi", type: .dynamic, targets: ["PCMoEABI"]),
        .executable(name: "pcmoe", targets: ["pcmoe"]),
        .executable(name: "pcmoe-bench", targets: ["PCMoEBench"]),
        .executable(name: "pcmoe-fuzz", targets: ["PCMoEFuzz"]),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(name: "CMalloc"),
        // libzmq is linked by name: its pkg-config file adds Kerberos
        // include flags that SwiftPM rejects, and zmq.h needs none of them.
        .systemLibrary(name: "CZMQ", providers: [.apt(["libzmq3-dev"])]),
        // The protobuf-c code generated from proto/pcmoe.proto by
        // `make proto`; checked in, and compared with a fresh generation by a test.
        .target(
            name: "CPCMoEWire",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(
            name: "PCMoECore",
            dependencies: ["COpenBLAS", "CZlib", "CMalloc", "CPCMoEWire", "CZMQ"]
        ),
        // The C declarations of include/pcmoe.h, for the Swift side of the ABI.
        .systemLibrary(name: "CPCMoEABI"),
        // The @_cdecl functions: conversions between C and Swift, nothing more.
        .target(name: "PCMoEABI", dependencies: ["PCMoECore", "CPCMoEABI"]),
        .executableTarget(name: "pcmoe", dependencies: ["PCMoECore"]),
        // `make fuzz` builds it with -sanitize=fuzzer -DPCMOE_FUZZ as a
        // libFuzzer target; built normally, it replays saved inputs.
        .systemLibrary(name: "CFuzzer"),
        .executableTarget(name: "PCMoEFuzz", dependencies: ["PCMoEABI", "PCMoECore", "CPCMoEABI", "CFuzzer"]),
        .executableTarget(name: "PCMoEBench", dependencies: ["PCMoECore", "COpenBLAS"]),
        .testTarget(name: "PCMoECoreTests", dependencies: ["PCMoECore"]),
    ]
)
