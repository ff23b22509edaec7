import XCTest
@testable import Net2Net

/// The shipped models are found beside an installed executable, before the
/// source tree, and a model found nowhere is an error naming every place looked at.
final class ShippedModelSearchTests: XCTestCase {
    func testAnInstalledExecutableLooksBesideItselfFirst() throws {
        guard FileManager.default.isExecutableFile(atPath: CLI.executable.path) else {
            return XCTFail("the net2net executable is not built at \(CLI.executable.path); run scripts/test, which builds it first")
        }
        let prefix = temporaryDirectory(name)
        let bin = prefix.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLI.executable, to: bin.appendingPathComponent("net2net"))
        // A marker model that is not a checkpoint: reading it proves where the search looked first.
        func decodeFails(naming place: URL) throws {
            try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true)
            try Data("not a model".utf8).write(to: place.appendingPathComponent(ShippedModels.autoencoderFile))
            let process = Process()
            process.executableURL = bin.appendingPathComponent("net2net")
            process.arguments = ["decode", "--expert", "autoencoder", "--random", "1", "--output", "d.npy"]
            process.currentDirectoryURL = prefix
            var environment = ProcessInfo.processInfo.environment
            environment["NET2NET_MODELS"] = nil
            process.environment = environment
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 1, stderr)
            XCTAssertTrue(stderr.hasPrefix("error: \(place.appendingPathComponent(ShippedModels.autoencoderFile).path): "), stderr)
        }
        try decodeFails(naming: bin.appendingPathComponent("models"))
        try decodeFails(naming: prefix.appendingPathComponent("share/net2net/models"))
    }

    func testAMissingModelListsWhereItLooked() {
        XCTAssertThrowsError(try ShippedModels.locate("no-such-model.safetensors")) { error in
            let message = error.localizedDescription
            XCTAssertTrue(message.hasPrefix("no-such-model.safetensors: shipped model not found; looked in "), message)
            for place in ShippedModels.searchPath { XCTAssertTrue(message.contains(place.path), "\(place.path) not in \(message)") }
            XCTAssertTrue(message.contains(ShippedModels.sourceRoot.appendingPathComponent("models").path), message)
        }
    }
}
