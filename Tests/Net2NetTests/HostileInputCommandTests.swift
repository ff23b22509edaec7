import Foundation
import XCTest

/// `net2net inspect` on crafted checkpoints: a non-zero exit, one
/// `error: <path>: …` line, and no tensor printed.
final class HostileInputCommandTests: XCTestCase {
    static let hostile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FormatsTests/Fixtures/hostile", isDirectory: true).standardizedFileURL

    func testInspectRefusesOverflowingStorages() throws {
        guard FileManager.default.isExecutableFile(atPath: CLI.executable.path) else {
            return XCTFail("the net2net executable is not built at \(CLI.executable.path); run `swift build` first")
        }
        for name in ["legacy_storage_count_overflow.pth", "zip_storage_count_overflow.pth",
                     "legacy_view_offset_overflow.pth", "zip_view_past_storage.pth", "zero_stride_40gb.pth"] {
            let path = Self.hostile.appendingPathComponent(name).path
            let result = try CLI.run(["inspect", path], in: FileManager.default.temporaryDirectory, threads: false)
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.hasPrefix("error: \(path): "), "\(name): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", name)
        }
    }
}
