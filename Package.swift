// swift-tools-version:6.1
import PackageDescription

// No unsafe build flags anywhere: the package must build as a versioned
// dependency of another package. The numeric kernels choose their instruction
// set at run time (Sources/CKernels), and the BLAS is loaded at run time too.
// Tests run in release mode (scripts/test) for speed.

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
        // The web app's HTTP server (`net2net serve`), built only for the executable:
        // the Net2Net library does not depend on it. No traits: the server needs
        // neither swift-configuration nor the full Foundation form coders.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
    ],
    targets: [
        .target(name: "CKernels", path: "Sources/CKernels"),
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
        // Open MPI, loaded at run time (dlopen): nothing to link, so the default build needs no MPI.
        .target(name: "CMPI", path: "Sources/CMPI"),
        .target(name: "TensorCore", dependencies: ["CKernels"]),
        .target(name: "MessagePassing", dependencies: ["CMPI"]),
        .target(name: "Formats", dependencies: ["TensorCore", "CPNG", "CZlibSystem"]),
        .target(name: "Layers", dependencies: ["TensorCore"]),
        .target(name: "Flow", dependencies: ["TensorCore", "Layers"]),
        .target(name: "Datasets", dependencies: ["TensorCore", "Formats"]),
        .target(
            name: "Experts",
            dependencies: ["TensorCore", "Formats", "Layers", "Datasets", "ZIPFoundation"]
        ),
        .target(
            name: "Net2Net",
            dependencies: ["TensorCore", "Formats", "Layers", "Flow", "Datasets", "Experts", "MessagePassing", "Yams"]
        ),
        // `net2net serve`: HTTP API, request queue and the embedded web page.
        .target(
            name: "Net2NetServer",
            dependencies: [
                "Net2Net", "Flow", "Formats", "TensorCore", "Experts",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "net2net",
            dependencies: [
                "Net2Net", "Net2NetServer", "Flow", "Formats", "TensorCore", "Experts", "Datasets", "MessagePassing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Numerical test helpers (finite-difference gradient checks, tolerances) shared by the test targets.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "CKernels"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats"], exclude: ["Fixtures"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "TestSupport"]),
        .testTarget(name: "FlowTests", dependencies: ["Flow", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Formats"]),
        .testTarget(name: "ExpertsTests", dependencies: ["Experts", "Datasets", "ZIPFoundation", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "Net2NetServerTests", dependencies: ["Net2NetServer", "Net2Net", "Experts", "Formats", "TensorCore"]),
        .testTarget(name: "Net2NetTests", dependencies: ["Net2Net", "Flow", "Experts", "Datasets", "Formats", "Layers", "TensorCore"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
