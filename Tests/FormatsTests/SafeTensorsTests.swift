import Foundation
import TensorCore
import XCTest
@testable import Formats

/// safetensors round trips and hand-built files with half-precision data.
final class SafeTensorsTests: FormatsTestCase {
    func testRoundTripWithMetadataAndInt64() throws {
        let weight = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, .infinity, -0.0, 1e-30])
        let steps: [Int64] = [.min, 0, .max]
        let metadata = ["config": #"{"hidden": 1024, "name": "λ\n\"q\""}"#, "format": "pt"]
        try SafeTensorsFile.write([
            ("b.weight", .float32(weight)),
            ("a.steps", .int64(steps, shape: [3])),
            ("scalar", .float32(Tensor(shape: [], scalars: [7]))),
            ("empty", .float32(Tensor(zeros: [0, 4]))),
        ], metadata: metadata, to: file("model.safetensors"))

        let file = try SafeTensorsFile(contentsOf: file("model.safetensors"))
        XCTAssertEqual(file.names, ["a.steps", "b.weight", "empty", "scalar"])
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(try file.tensor("b.weight").scalars.map(\.bitPattern), weight.scalars.map(\.bitPattern))
        XCTAssertEqual(try file.tensor("b.weight").shape, [2, 3])
        XCTAssertEqual(try file.int64("a.steps"), steps)
        XCTAssertEqual(try file.tensor("scalar"), Tensor(shape: [], scalars: [7]))
        XCTAssertEqual(try file.tensor("empty"), Tensor(zeros: [0, 4]))
        XCTAssertEqual(file.info("a.steps")?.dtype, "I64")
        XCTAssertEqual(file.info("a.steps")?.shape, [3])
        XCTAssertNil(file.info("missing"))
    }

    /// Data follows the given order; the header is space-padded to 8 bytes.
    func testLayoutFollowsGivenOrderAndHeaderIsAligned() throws {
        try SafeTensorsFile.write([
            ("z", .float32(Tensor(shape: [3], scalars: [1, 2, 3]))),
            ("a", .int64([5], shape: [1])),
        ], to: file("order.safetensors"))
        let bytes = try bytes(of: file("order.safetensors"))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       #"{"z":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"#
                           + #""a":{"dtype":"I64","shape":[1],"data_offsets":[12,20]}}"#)
        XCTAssertEqual(Array(bytes[(8 + length)...]), littleEndianBytes([1, 2, 3]) + littleEndianBytes(Int64(5)))
        XCTAssertTrue(try SafeTensorsFile(contentsOf: file("order.safetensors")).metadata.isEmpty)
    }

    func testReadsHalfBFloatDoubleAndInt32() throws {
        let f16: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555, 0x0400]
        let bf16: [UInt16] = [0x3F80, 0xC020, 0x7F7F, 0xFF80]
        let f64: [Double] = [1e-3, -2.5, 1e300]
        let i32: [Int32] = [-5, .max, .min]
        var data: [UInt8] = []
        func append<T: FixedWidthInteger>(_ values: [T]) -> String {
            let begin = data.count
            data += values.flatMap { littleEndianBytes($0) }
            return "[\(begin),\(data.count)]"
        }
        let header = """
            {"h":{"dtype":"F16","shape":[2,4],"data_offsets":\(append(f16))},\
            "b":{"dtype":"BF16","shape":[4],"data_offsets":\(append(bf16))},\
            "d":{"dtype":"F64","shape":[3],"data_offsets":\(append(f64.map(\.bitPattern)))},\
            "i":{"dtype":"I32","shape":[3,1],"data_offsets":\(append(i32))}}
            """
        // The header is not padded, so the F64 data is deliberately unaligned.
        let file = try SafeTensorsFile(contentsOf: try fixture("half.safetensors", safetensorsFile(header, data)))

        let half = try file.tensor("h")
        XCTAssertEqual(half.shape, [2, 4])
        XCTAssertEqual(half.scalars, [1, -2.5, 65504, 0x1p-24, -0.0, .infinity, 0.333251953125, 0x1p-14])
        XCTAssertEqual(half.scalars[4].sign, .minus)
        XCTAssertEqual(try file.tensor("b").scalars, [1, -2.5, 0x1.FEp127, -.infinity])
        XCTAssertEqual(try file.tensor("d").scalars, [Float(1e-3), -2.5, .infinity])
        XCTAssertEqual(try file.int64("i"), [-5, Int64(Int32.max), Int64(Int32.min)])
    }

    func testHalfConversionIsExactForEveryBitPattern() {
        // Float16 exists on x86-64 Linux; compare every pattern with it where available.
        #if arch(x86_64) && os(Linux)
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = floatFromHalf(bits)
            if expected.isNaN {
                XCTAssertTrue(actual.isNaN)
            } else if actual.bitPattern != expected.bitPattern {
                XCTFail("half 0x\(String(bits, radix: 16)): \(actual) ≠ \(expected)")
                return
            }
        }
        #endif
    }

    func testDuplicateOrReservedNamesWriteNothing() throws {
        let value = SafeTensorValue.float32(Tensor(zeros: [1]))
        for tensors in [[("w", value), ("w", value)], [("__metadata__", value)]] {
            let url = file("dup.safetensors")
            assertFormatError(try SafeTensorsFile.write(tensors, to: url), path: url,
                              contains: ["cannot write: duplicate or reserved tensor name"])
        }
        XCTAssertEqual(try directoryListing(), [])
    }
}

/// A safetensors file from raw header text (not padded) and data bytes.
func safetensorsFile(_ header: String, _ data: [UInt8]) -> [UInt8] {
    littleEndianBytes(UInt64(header.utf8.count)) + Array(header.utf8) + data
}
