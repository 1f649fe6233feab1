// swift-tools-version: 6.1
import PackageDescription

// Layers, imports in one direction only:
// CTrace (C shims) → TraceIO (readers, recorder) → KernelEvents → EventGraph
// → WritebackModel → Replay / Explore → wbreplay (CLI)
let package = Package(
    name: "wbreplay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wbreplay", targets: ["wbreplay"]),
        .library(name: "TraceIO", targets: ["TraceIO"]),
        .library(name: "KernelEvents", targets: ["KernelEvents"]),
        .library(name: "EventGraph", targets: ["EventGraph"]),
        .library(name: "WritebackModel", targets: ["WritebackModel"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "Explore", targets: ["Explore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CTrace",
            pkgConfig: "libtracecmd",
            providers: [.apt(["libtracecmd-dev", "libtracefs-dev", "libtraceevent-dev"])]
        ),
        .target(name: "TraceIO", dependencies: ["CTrace"]),
        .target(name: "KernelEvents", dependencies: ["TraceIO"]),
        .target(name: "EventGraph", dependencies: ["KernelEvents", "TraceIO"]),
        // The ext4 io_end / page-writeback state machine: pure, trace-free;
        // TraceIO only for DeviceNumber.
        .target(name: "WritebackModel", dependencies: ["TraceIO"]),
        // Drives the model from a trace: invisible transitions inferred,
        // findings with honest verdicts (lost events, per-CPU clocks).
        .target(name: "Replay", dependencies: ["WritebackModel", "EventGraph", "KernelEvents", "TraceIO"]),
        // Exhaustive search of a scenario's interleavings over the same model;
        // emits counterexamples as ftrace text. Never imports Replay.
        .target(name: "Explore", dependencies: ["WritebackModel", "TraceIO"]),
        .executableTarget(
            name: "wbreplay",
            dependencies: [
                "TraceIO",
                "KernelEvents",
                "EventGraph",
                "Replay",
                "Explore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Injects the seeds' bugs into the real traces of traces/ (and any other
        // trace directory), each with a legal twin and the finding construction
        // guarantees. It never imports Replay or WritebackModel: the expected
        // outcome must not come from the code under test.
        .target(name: "MutationCorpus", dependencies: ["TraceIO", "KernelEvents"], path: "Tests/MutationCorpus",
                exclude: ["README.md"]),
        .testTarget(name: "TraceIOTests", dependencies: ["TraceIO"]),
        .testTarget(name: "KernelEventsTests", dependencies: ["KernelEvents", "TraceIO"]),
        .testTarget(name: "EventGraphTests", dependencies: ["EventGraph", "KernelEvents", "TraceIO"]),
        .testTarget(name: "WritebackModelTests", dependencies: ["WritebackModel", "TraceIO"]),
        // The round trip: Explore's emitted traces replayed by Replay.
        .testTarget(name: "ExploreTests", dependencies: ["Explore", "Replay", "WritebackModel", "TraceIO"]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "WritebackModel", "TraceIO"],
                    resources: [.copy("Fixtures")]),
        // Recall over the mutation corpus: every injected bug found, no twin flagged.
        .testTarget(name: "MutationRecallTests", dependencies: ["MutationCorpus", "Replay", "WritebackModel", "TraceIO"]),
        // Depends on the executable so that `swift test` builds the binary the live tests run.
        .testTarget(name: "RecordTests", dependencies: ["TraceIO", "wbreplay"]),
        // Runs the built binary as a user would; depends on it so it is built first.
        .testTarget(name: "CLITests", dependencies: ["wbreplay"]),
    ]
)
