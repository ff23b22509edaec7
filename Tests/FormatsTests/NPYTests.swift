import Foundation
import TensorCore
import XCTest
@testable import Formats

/// `.npy` round trips and hand-built files of every header version.
final class NPYTests: FormatsTestCase {
    func testFloat32RoundTripKeepsShapeAndBits() throws {
        let shapes: [[Int]] = [[0, 384], [], [3, 1, 5], [7], [2, 3], [4, 0]]
        for shape in shapes {
            let count = Tensor.elementCount(shape)
            var scalars = (0..<count).map { Float($0) * 0.25 - 1 }
            if count > 3 { scalars[1] = .infinity; scalars[2] = -0.0; scalars[3] = .leastNonzeroMagnitude }
            let tensor = Tensor(shape: shape, scalars: scalars)
            let url = file("f32.npy")
            try NPY.write(tensor, to: url)
            let back = try NPY.readFloat32(url)
            XCTAssertEqual(back.shape, shape)
            XCTAssertEqual(back.scalars.map(\.bitPattern), scalars.map(\.bitPattern), "shape \(shape)")
            XCTAssertEqual(try NPY.read(url), NPYArray(tensor))
        }
    }

    func testInt64AndUInt8RoundTrip() throws {
        let int64: [Int64] = [.min, -1, 0, 1, .max, 1 << 40]
        try NPY.write(int64: int64, shape: [2, 3], to: file("i.npy"))
        XCTAssertEqual(try NPY.read(file("i.npy")), NPYArray(shape: [2, 3], storage: .int64(int64)))

        let uint8 = (0..<48).map { UInt8($0 * 5 % 256) }
        try NPY.write(uint8: uint8, shape: [1, 4, 4, 3], to: file("u.npy"))
        XCTAssertEqual(try NPY.read(file("u.npy")), NPYArray(shape: [1, 4, 4, 3], storage: .uint8(uint8)))

        try NPY.write(int64: [], shape: [0], to: file("e.npy"))
        XCTAssertEqual(try NPY.read(file("e.npy")), NPYArray(shape: [0], storage: .int64([])))
        try NPY.write(uint8: [9], shape: [], to: file("s.npy"))
        XCTAssertEqual(try NPY.read(file("s.npy")), NPYArray(shape: [], storage: .uint8([9])))
    }

    /// The exact bytes `numpy.save` writes for a float32 array of shape (2, 3).
    func testWrittenHeaderMatchesNumPy() throws {
        try NPY.write(Tensor(zeros: [2, 3]), to: file("z.npy"))
        let bytes = try bytes(of: file("z.npy"))
        let dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        let expected = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(dictionary.utf8)
            + [UInt8](repeating: 0x20, count: 118 - dictionary.utf8.count - 1) + [0x0A]
        XCTAssertEqual(Array(bytes.prefix(128)), expected)
        XCTAssertEqual(bytes.count, 128 + 24)

        try NPY.write(Tensor(zeros: [5]), to: file("v.npy"))
        let text = String(decoding: try self.bytes(of: file("v.npy"))[10..<128], as: UTF8.self)
        XCTAssertTrue(text.contains("'shape': (5,), }"), text)
    }

    func testHeaderTooLongForVersion1UsesVersion2() throws {
        let shape = [Int](repeating: 1, count: 25_000)  // "1, " × 25000 > 65535 bytes
        try NPY.write(uint8: [42], shape: shape, to: file("wide.npy"))
        let bytes = try bytes(of: file("wide.npy"))
        XCTAssertEqual(bytes[6], 2)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        XCTAssertEqual((12 + headerLength) % 64, 0)
        XCTAssertEqual(try NPY.read(file("wide.npy")), NPYArray(shape: shape, storage: .uint8([42])))
    }

    func testReadsHandWrittenVersion1HeaderWithoutPadding() throws {
        // Double quotes, no trailing comma, odd spacing, data not 64-aligned,
        // 'L' suffix as Python 2 wrote, and trailing bytes after the data.
        let text = #"{"descr":"<f4",  "shape" : (2L,2), "fortran_order":False}"#
        let bytes = npyFile(major: 1, header: text, data: littleEndianBytes([1, -2.5, 3, 65504]) + [0xFF, 0xEE])
        let tensor = try NPY.readFloat32(try fixture("v1.npy", bytes))
        XCTAssertEqual(tensor, Tensor(shape: [2, 2], scalars: [1, -2.5, 3, 65504]))
    }

    func testReadsVersion2And3Headers() throws {
        let text = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n"
        let data = [Int64(-7), 0, 123_456_789_012].flatMap { littleEndianBytes($0) }
        for major in [UInt8(2), 3] {
            let url = try fixture("v\(major).npy", npyFile(major: major, header: text, data: data))
            XCTAssertEqual(try NPY.read(url), NPYArray(shape: [3], storage: .int64([-7, 0, 123_456_789_012])))
        }
    }

    func testReadsScalarLittleEndianUInt8AndFortranVector() throws {
        let scalar = npyFile(major: 1, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                             data: littleEndianBytes([0.5]))
        XCTAssertEqual(try NPY.readFloat32(try fixture("scalar.npy", scalar)), Tensor(shape: [], scalars: [0.5]))

        let uint8 = npyFile(major: 1, header: "{'descr': '<u1', 'fortran_order': False, 'shape': (2, 0), }", data: [])
        XCTAssertEqual(try NPY.read(try fixture("u1.npy", uint8)), NPYArray(shape: [2, 0], storage: .uint8([])))

        // One axis longer than 1: Fortran and C order are the same bytes.
        let vector = npyFile(major: 1, header: "{'descr': '|u1', 'fortran_order': True, 'shape': (1, 3), }",
                             data: [1, 2, 3])
        XCTAssertEqual(try NPY.read(try fixture("f.npy", vector)), NPYArray(shape: [1, 3], storage: .uint8([1, 2, 3])))
    }
}

/// A `.npy` file with the given header text, unpadded, and data.
func npyFile(major: UInt8, header: String, data: [UInt8]) -> [UInt8] {
    let text = Array(header.utf8)
    let length: [UInt8] = major == 1 ? littleEndianBytes(UInt16(text.count)) : littleEndianBytes(UInt32(text.count))
    return [0x93] + Array("NUMPY".utf8) + [major, 0] + length + text + data
}
