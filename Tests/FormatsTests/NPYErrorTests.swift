import Foundation
import TensorCore
import XCTest
@testable import Formats

/// Every way a `.npy` file can be wrong gives an error naming the file and the problem.
final class NPYErrorTests: FormatsTestCase {
    /// A valid float32 [4, 8] file, as bytes, to corrupt.
    func validFile() throws -> [UInt8] {
        try NPY.write(Tensor(repeating: 1, shape: [4, 8]), to: file("valid.npy"))
        return try bytes(of: file("valid.npy"))
    }

    /// `bytes` with the ASCII text `old` replaced by `new` of the same length.
    func replacing(_ old: String, with new: String, in bytes: [UInt8]) -> [UInt8] {
        precondition(old.utf8.count == new.utf8.count)
        let pattern = Array(old.utf8)
        let start = (0...(bytes.count - pattern.count)).first { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }!
        var copy = bytes
        copy.replaceSubrange(start..<(start + pattern.count), with: new.utf8)
        return copy
    }

    func testMissingEmptyAndDirectory() throws {
        assertFormatError(try NPY.read(file("absent.npy")), path: file("absent.npy"), contains: ["missing file"])
        let empty = try fixture("empty.npy", [])
        let error = assertFormatError(try NPY.read(empty), path: empty, contains: ["empty file"])
        XCTAssertEqual(error, .emptyFile(path: empty.path))
        try FileManager.default.createDirectory(at: file("dir.npy"), withIntermediateDirectories: false)
        assertFormatError(try NPY.read(file("dir.npy")), path: file("dir.npy"), contains: ["is a directory"])
    }

    func testRelativePathIsShownAsGiven() throws {
        let url = URL(fileURLWithPath: "data/z.npy", relativeTo: directory)
        XCTAssertThrowsError(try NPY.read(url)) { error in
            XCTAssertEqual((error as? FormatError)?.errorDescription, "data/z.npy: missing file")
        }
    }

    func testBadMagic() throws {
        var bytes = try validFile()
        bytes[1] = UInt8(ascii: "n")
        let url = try fixture("magic.npy", bytes)
        assertFormatError(try NPY.read(url), path: url, contains: ["not a .npy file (bad magic)"])
        let short = try fixture("short.npy", [0x93, 0x4E])
        assertFormatError(try NPY.read(short), path: short, contains: ["bad magic"])
    }

    func testUnsupportedVersionAndShortPreamble() throws {
        var bytes = try validFile()
        bytes[6] = 4
        let url = try fixture("v4.npy", bytes)
        assertFormatError(try NPY.read(url), path: url, contains: ["unsupported .npy format version 4.0"])
        let cut = try fixture("cut.npy", Array(try validFile().prefix(9)))
        assertFormatError(try NPY.read(cut), path: cut, contains: ["truncated", "preamble"])
    }

    func testHeaderLengthPastEndOfFile() throws {
        let url = try fixture("cut.npy", Array(try validFile().prefix(100)))
        assertFormatError(try NPY.read(url), path: url,
                          contains: ["truncated: header length 118 runs past the end of the 100-byte file"])
    }

    func testMalformedHeaderDictionary() throws {
        let valid = try validFile()
        let cases: [(old: String, new: String, message: String)] = [
            ("(4, 8), }", "(4, 8), :", "cannot parse header dictionary: unexpected character ':' at offset"),
            ("'shape'", "'shapf'", "header keys are ['descr', 'fortran_order', 'shapf']"),
            ("(4, 8)", "(4,-8)", "shape (4, -8) is not a tuple of non-negative integers"),
            ("(4, 8)", "'4, 8'", "shape '4, 8' is not a tuple"),
            ("False", "Nope!", "cannot parse header dictionary: unexpected character 'N'"),
            ("False", "None ", "fortran_order None is not True or False"),
            ("{'descr'", "['descr'", "cannot parse header dictionary"),
        ]
        for (index, corruption) in cases.enumerated() {
            let url = try fixture("header\(index).npy", replacing(corruption.old, with: corruption.new, in: valid))
            assertFormatError(try NPY.read(url), path: url, contains: ["malformed header: ", corruption.message])
        }
        let notDictionary = try fixture("list.npy", npyFile(major: 1, header: "[1, 2]", data: []))
        assertFormatError(try NPY.read(notDictionary), path: notDictionary, contains: ["header is not a dictionary"])
        let huge = try fixture("huge.npy", npyFile(
            major: 1, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(Int.max), 2), }", data: []))
        assertFormatError(try NPY.read(huge), path: huge, contains: ["is too large"])
    }

    func testUnsupportedDType() throws {
        let valid = try validFile()
        let f8 = try fixture("f8.npy", replacing("<f4", with: "<f8", in: valid))
        let error = assertFormatError(try NPY.read(f8), path: f8, contains: [])
        XCTAssertEqual(error?.errorDescription,
                       "\(f8.path): unsupported dtype '<f8' (supported: float32 '<f4', int64 '<i8', uint8 '|u1')")
        let bigEndian = try fixture("be.npy", replacing("<f4", with: ">f4", in: valid))
        assertFormatError(try NPY.read(bigEndian), path: bigEndian, contains: ["'>f4' (big-endian", ".astype('<f4')"])
        let structured = try fixture("rec.npy", npyFile(
            major: 1, header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]))
        assertFormatError(try NPY.read(structured), path: structured, contains: ["unsupported dtype [('a', '<f4')]"])
    }

    func testFortranOrder() throws {
        let url = try fixture("fortran.npy", replacing("False", with: "True ", in: try validFile()))
        let error = assertFormatError(try NPY.read(url), path: url, contains: [])
        XCTAssertEqual(error?.errorDescription,
                       "\(url.path): Fortran-order arrays are not supported; save with np.ascontiguousarray")
    }

    func testTruncatedData() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), }"
        let url = try fixture("z.npy", npyFile(major: 1, header: header, data: [UInt8](repeating: 0, count: 4096)))
        let error = assertFormatError(try NPY.read(url), path: url, contains: [])
        XCTAssertEqual(error?.errorDescription,
                       "\(url.path): truncated: header says 1000×128 float32 (512000 bytes) but only 4096 bytes of data")

        let cut = try fixture("cut.npy", Array(try validFile().dropLast(1)))
        assertFormatError(try NPY.read(cut), path: cut, contains: ["4×8 float32 (128 bytes) but only 127 bytes"])
    }

    func testReadFloat32RejectsOtherDTypes() throws {
        try NPY.write(int64: [1, 2], shape: [2], to: file("ints.npy"))
        let error = assertFormatError(try NPY.readFloat32(file("ints.npy")), path: file("ints.npy"), contains: [])
        XCTAssertEqual(error?.problem, "array has dtype int64 '<i8', expected float32 '<f4'")
    }
}
