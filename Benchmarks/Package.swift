// swift-tools-version: 6.1
// Micro-benchmarks, a package of their own so that package-benchmark never enters Parley's dependency graph.
// Run: cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "ParleyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "parley", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "ParleyMicro",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ParleyIRC", package: "parley"),
                .product(name: "ParleyCore", package: "parley"),
                .product(name: "ParleyStore", package: "parley"),
                .product(name: "ParleyStoreSQLite", package: "parley"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/ParleyMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ]
)
