// swift-tools-version:6.0
import PackageDescription

/// The libFuzzer harness for the parsers of untrusted files. Built only by
/// `scripts/fuzz` (with `-sanitize=fuzzer,address`), never by the root
/// package's `swift build`. `Sources/` links the root package's own module
/// folders (and the tokenizer's four files) so that only the parsers, not
/// the whole library, are built with the sanitizers.
let package = Package(
    name: "Net2NetFuzz",
    targets: [
        .target(name: "CKernels"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CZlibSystem", path: "Sources/CZlibSystem"),
        .target(name: "TensorCore", dependencies: ["CKernels"]),
        .target(name: "Formats", dependencies: ["TensorCore", "CPNG", "CZlibSystem"]),
        .target(name: "Tokenizer"),
        .executableTarget(name: "FuzzTargets", dependencies: ["Formats", "Tokenizer"]),
    ],
    swiftLanguageModes: [.v5]
)
