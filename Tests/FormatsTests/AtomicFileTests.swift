import Foundation
import TensorCore
import XCTest
@testable import Formats

/// `AtomicFile` replaces a file whole or not at all, and never leaves its
/// temporary file behind.
final class AtomicFileTests: FormatsTestCase {
    struct Interrupted: Error, Equatable {}

    func testWritesCreatesParentsAndReplaces() throws {
        let url = directory.appendingPathComponent("a/b/c.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        XCTAssertEqual(try bytes(of: url), [1, 2, 3])
        try AtomicFile.write(Data([9]), to: url)
        XCTAssertEqual(try bytes(of: url), [9])
        XCTAssertEqual(try directoryListing(url.deletingLastPathComponent()), ["c.bin"])
    }

    func testStreamingWriterAppendsInOrder() throws {
        let url = file("s.bin")
        try AtomicFile.write(to: url) { writer in
            try writer.write(contentsOf: [UInt8(1), 2])
            try writer.write(Data([3]))
            try writer.write(contentsOf: [UInt16(0x0504)])
            try writer.write(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        XCTAssertEqual(try bytes(of: url), [1, 2, 3, 4, 5])
    }

    /// A failure after half the new contents were written keeps the old file.
    func testFailureInsideBodyKeepsOldFile() throws {
        let url = file("model.safetensors")
        try AtomicFile.write(Data("old".utf8), to: url)
        XCTAssertThrowsError(try AtomicFile.write(to: url) { writer in
            try writer.write(Data("half of the new".utf8))
            throw Interrupted()
        }) { error in
            XCTAssertEqual(error as? Interrupted, Interrupted())
        }
        XCTAssertEqual(try bytes(of: url), Array("old".utf8))
        XCTAssertEqual(try directoryListing(), ["model.safetensors"])
    }

    /// The rename really fails when the destination is a non-empty directory.
    func testRenameFailureKeepsDestinationAndRemovesTemporary() throws {
        let url = file("z.npy")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data([7]).write(to: url.appendingPathComponent("keep"))
        assertFormatError(try NPY.write(Tensor(zeros: [4]), to: url), path: url, contains: ["cannot write: rename: "])
        XCTAssertEqual(try directoryListing(), ["z.npy"])
        XCTAssertEqual(try bytes(of: url.appendingPathComponent("keep")), [7])
    }

    func testParentThatIsAFileFails() throws {
        let blocker = try fixture("blocker", [1])
        let url = blocker.appendingPathComponent("x.npy")
        assertFormatError(try AtomicFile.write(Data([1]), to: url), path: url, contains: ["cannot create directory"])
        XCTAssertEqual(try bytes(of: blocker), [1])
        XCTAssertEqual(try directoryListing(), ["blocker"])
    }
}
