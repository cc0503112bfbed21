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
        // The protobuf-c code generated from proto/pcmoe.proto by
        // `make proto`; checked in, and compared with a fresh generation by a test.
        .target(
            name: "CPCMoEWire",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(
            name: "PCMoECore",
            dependencies: ["COpenBLAS", "CZlib", "CMalloc", "CPCMoEWire"]
        ),
        // The C declarations of include/pcmoe.h, for the Swift side of the ABI.
        .systemLibrary(name: "CPCMoEABI"),
        // The @_cdecl functions: conversions between C and Swift, nothing more.
        .target(name: "PCMoEABI", dependencies: ["PCMoECore", "CPCMoEABI"]),
        .executableTarget(name: "pcmoe", dependencies: ["PCMoECore"]),
        .executableTarget(name: "PCMoEBench", dependencies: ["PCMoECore", "COpenBLAS"]),
        .testTarget(name: "PCMoECoreTests", dependencies: ["PCMoECore"]),
    ]
)
