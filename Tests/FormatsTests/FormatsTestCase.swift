import Foundation
import XCTest
@testable import Formats

/// A test case with a fresh temporary directory per test, removed afterwards.
class FormatsTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("FormatsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `name` inside the test's directory.
    func file(_ name: String) -> URL {
        directory.appendingPathComponent(name)
    }

    /// Writes raw bytes with Foundation (not the code under test).
    @discardableResult
    func fixture(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = file(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// The file's bytes, read with Foundation.
    func bytes(of url: URL) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: url))
    }

    /// Names in the test directory, to check that no temporary files remain.
    func directoryListing(_ url: URL? = nil) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: (url ?? directory).path).sorted()
    }

    /// Asserts that `body` throws `FormatError` whose message starts with the
    /// file's path and contains every fragment; returns the error.
    @discardableResult
    func assertFormatError<T>(
        _ body: @autoclosure () throws -> T, path url: URL, contains fragments: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) -> FormatError? {
        do {
            _ = try body()
            XCTFail("expected a FormatError, got success", file: file, line: line)
            return nil
        } catch let error as FormatError {
            let message = error.errorDescription ?? ""
            XCTAssertEqual(error.path, url.path, file: file, line: line)
            XCTAssertTrue(message.hasPrefix(url.path + ": "), "message \(message) does not start with the path",
                          file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "message \"\(message)\" lacks \"\(fragment)\"",
                              file: file, line: line)
            }
            return error
        } catch {
            XCTFail("expected a FormatError, got \(error)", file: file, line: line)
            return nil
        }
    }
}

/// Little-endian bytes of fixed-width integers and floats, for fixtures.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { littleEndianBytes($0.bitPattern) }
}
