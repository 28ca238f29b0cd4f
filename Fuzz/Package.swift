// swift-tools-version: 6.1
// libFuzzer targets, a package of their own: they are built with -sanitize=fuzzer,address, which the main package's
// build must never get. Run: scripts/fuzz TARGET SECONDS
import PackageDescription

let package = Package(
    name: "ParleyFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "parley", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "FuzzIRCParser",
            dependencies: [
                "FuzzDriver",
                .product(name: "ParleyIRC", package: "parley"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "FuzzWire",
            dependencies: ["FuzzDriver", .product(name: "ParleyWireHarness", package: "parley")]
        ),
        .executableTarget(
            name: "FuzzCore",
            dependencies: [
                "FuzzDriver",
                .product(name: "ParleyCore", package: "parley"),
                .product(name: "ParleyIRC", package: "parley"),
            ]
        ),
    ]
)
