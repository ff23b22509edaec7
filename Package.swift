// swift-tools-version:6.0
import PackageDescription

/// Numeric targets are always optimised, also in debug builds, so that
/// `swift test` runs at full speed. The machines we target support x86-64-v3
/// (AVX2 + FMA); SIMD code in TensorCore relies on it.
let numericFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-Xcc", "-march=x86-64-v3"]),
]

let package = Package(
    name: "Net2Net",
    products: [
        .library(name: "Net2Net", targets: ["Net2Net"]),
        .executable(name: "net2net", targets: ["net2net"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CPNG",
            path: "Sources/CPNG",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CZlibSystem",
            path: "Sources/CZlibSystem",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "TensorCore", dependencies: ["CBLAS"], swiftSettings: numericFlags),
        .target(name: "Formats", dependencies: ["TensorCore", "CPNG", "CZlibSystem"]),
        .target(name: "Layers", dependencies: ["TensorCore"], swiftSettings: numericFlags),
        .target(name: "Flow", dependencies: ["TensorCore", "Layers"], swiftSettings: numericFlags),
        .target(name: "Datasets", dependencies: ["TensorCore", "Formats"]),
        .target(
            name: "Experts",
            dependencies: ["TensorCore", "Formats", "Layers", "Datasets", "ZIPFoundation"],
            swiftSettings: numericFlags
        ),
        .target(
            name: "Net2Net",
            dependencies: ["TensorCore", "Formats", "Layers", "Flow", "Datasets", "Experts", "Yams"],
            swiftSettings: numericFlags
        ),
        .executableTarget(
            name: "net2net",
            dependencies: [
                "Net2Net", "Flow", "Formats", "TensorCore", "Experts", "Datasets",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: numericFlags
        ),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"], swiftSettings: numericFlags),
        .testTarget(name: "FormatsTests", dependencies: ["Formats"], exclude: ["Fixtures"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers"], swiftSettings: numericFlags),
        .testTarget(name: "FlowTests", dependencies: ["Flow"], swiftSettings: numericFlags),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Formats"]),
        .testTarget(name: "ExpertsTests", dependencies: ["Experts", "Datasets"], exclude: ["Fixtures"], swiftSettings: numericFlags),
        .testTarget(name: "Net2NetTests", dependencies: ["Net2Net", "Experts", "Datasets", "Formats", "Layers", "TensorCore"], swiftSettings: numericFlags),
    ],
    swiftLanguageModes: [.v5]
)
