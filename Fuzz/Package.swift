// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the trace readers. A separate package so that the main
// `swift build` / `swift test` never sees an executable without `main`: these
// only link with `swift build --sanitize fuzzer --sanitize address` (see the
// Makefile's `fuzz` target). The readers are used through the main package's
// TraceIO product, exactly as the CLI uses them.
let package = Package(
    name: "wbreplay-fuzz",
    dependencies: [
        .package(name: "wbreplay", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzTextReader",
            dependencies: ["FuzzSupport", .product(name: "TraceIO", package: "wbreplay")]
        ),
        .executableTarget(
            name: "FuzzDatReader",
            dependencies: ["FuzzSupport", .product(name: "TraceIO", package: "wbreplay")]
        ),
    ]
)
