import Foundation
import XCTest
import Formats
@testable import Datasets

/// The data set loaders pass hostile files' errors through unchanged: the
/// crafted IDX and gzip files of `scripts/fixtures/make_hostile_files.py`
/// give a `FormatError` naming the file, never a crash or a huge allocation.
final class HostileDatasetTests: XCTestCase {
    static let hostile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FormatsTests/Fixtures/hostile", isDirectory: true).standardizedFileURL
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("HostileDatasetTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func assertMessage(_ body: () throws -> Void, startsWith path: String, contains fragment: String,
                       line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            let message = (error as? FormatError)?.errorDescription ?? "\(error)"
            XCTAssertTrue(message.hasPrefix(path + ": ") && message.contains(fragment), message, line: line)
        }
    }

    func testFashionMNISTWithOverflowingDimensions() throws {
        let names = ImageDataset.fashionMNISTFiles(.test)
        let images = directory.appendingPathComponent(names.images)
        try Gzip.compress(Data(contentsOf: Self.hostile.appendingPathComponent("idx_dimensions_overflow.idx"))).write(to: images)
        try IDXFile(shape: [1], bytes: [0]).write(to: directory.appendingPathComponent(names.labels), gzip: true)
        assertMessage({ _ = try ImageDataset.fashionMNIST(.test, in: directory) }, startsWith: images.path,
                      contains: "dimensions 4294967295×4294967295×4294967295 overflow")
    }

    func testMNIST5kFromAGzipBomb() throws {
        let file = directory.appendingPathComponent("mnist_5k.csv.gz")
        try FileManager.default.copyItem(at: Self.hostile.appendingPathComponent("gzip_bomb.gz"), to: file)
        assertMessage({ _ = try ImageDataset.mnist5k(.train, file: file) }, startsWith: file.path,
                      contains: "compression ratio")
    }
}
