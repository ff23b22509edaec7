import Foundation
import TensorCore
import XCTest
@testable import Formats

/// Hostile or damaged safetensors files are refused at open with a message
/// naming the file, the tensor and the problem.
final class SafeTensorsErrorTests: FormatsTestCase {
    let sixteenBytes = [UInt8](repeating: 0, count: 16)

    func assertOpenFails(_ bytes: [UInt8], _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try fixture("bad.safetensors", bytes)
        assertFormatError(try SafeTensorsFile(contentsOf: url), path: url, contains: fragments, file: file, line: line)
    }

    func testMissingEmptyAndShortFiles() throws {
        let absent = file("absent.safetensors")
        assertFormatError(try SafeTensorsFile(contentsOf: absent), path: absent, contains: ["missing file"])
        try assertOpenFails([], "empty file")
        try assertOpenFails([1, 2, 3], "truncated: 3 bytes, shorter than the 8-byte header length")
    }

    func testHeaderLengthLargerThanFile() throws {
        try assertOpenFails(littleEndianBytes(UInt64(1000)) + Array("{}".utf8),
                            "malformed header: header length 1000 exceeds the 10-byte file")
        try assertOpenFails(littleEndianBytes(UInt64.max) + Array("{}".utf8), "exceeds the limit 100000000",
                            "NET2NET_MAX_SAFETENSORS_HEADER_BYTES")
        // A .npy file is not a safetensors file: its first 8 bytes make a huge length.
        try NPY.write(Tensor(zeros: [2]), to: file("x.npy"))
        try assertOpenFails(try bytes(of: file("x.npy")), "header length", "not a safetensors file?")
    }

    func testInvalidJSON() throws {
        try assertOpenFails(safetensorsFile("{not json", []), "malformed header: invalid JSON: ")
        try assertOpenFails(safetensorsFile(#"{"w": 3}"#, []), "tensor 'w': entry is not a JSON object")
        try assertOpenFails(safetensorsFile("[1, 2]", []), "malformed header: the JSON header is not an object")
        try assertOpenFails(safetensorsFile(#"{"__metadata__": {"a": 1}}"#, []), "malformed header", "__metadata__")
    }

    func testEntryStructureErrorsNameTheTensor() throws {
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [4]}}"#, sixteenBytes),
                            "tensor 'w': missing key 'data_offsets'")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [4.5], "data_offsets": [0, 16]}}"#, sixteenBytes),
                            "tensor 'w': shape is not a list of integers")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "X9", "shape": [4], "data_offsets": [0, 16]}}"#, sixteenBytes),
                            "tensor 'w': unknown dtype 'X9'")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}"#, sixteenBytes),
                            "tensor 'w': negative extent in shape [-4]")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0]}}"#, sixteenBytes),
                            "tensor 'w': data_offsets must be [begin, end], two integers")
    }

    func testOffsetsOutOfRange() throws {
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}"#, sixteenBytes),
                            "tensor 'w': data_offsets [0, 32] out of range of the 16 data bytes")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [0], "data_offsets": [12, 8]}}"#, sixteenBytes),
                            "tensor 'w': data_offsets [12, 8] out of range")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#, sixteenBytes),
                            "tensor 'w': data_offsets [-4, 0] out of range")
        // A valid file cut short: the last tensor now overlaps the end.
        try SafeTensorsFile.write([("a", .float32(Tensor(zeros: [3]))), ("b", .int64([1, 2], shape: [2]))],
                                  to: file("good.safetensors"))
        try assertOpenFails(Array(try bytes(of: file("good.safetensors")).dropLast()),
                            "tensor 'b': data_offsets [12, 28] out of range of the 27 data bytes")
    }

    func testShapeAndSizeMismatch() throws {
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}}"#, sixteenBytes),
                            "tensor 'w': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 16] hold 16")
        try assertOpenFails(safetensorsFile(#"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#, sixteenBytes),
                            "tensor 'w': shape [4611686018427387904, 4] of F32 needs more bytes than fit in memory")
    }

    func testNotFoundAndWrongDType() throws {
        try SafeTensorsFile.write([("w", .float32(Tensor(zeros: [2]))), ("step", .int64([3], shape: []))],
                                  to: file("m.safetensors"))
        let url = file("m.safetensors")
        let model = try SafeTensorsFile(contentsOf: url)
        assertFormatError(try model.tensor("v"), path: url, contains: ["tensor 'v' not found"])
        assertFormatError(try model.int64("v"), path: url, contains: ["tensor 'v' not found"])
        assertFormatError(try model.tensor("step"), path: url,
                          contains: ["tensor 'step' has dtype I64, expected F32, F16, BF16, F64"])
        assertFormatError(try model.int64("w"), path: url, contains: ["tensor 'w' has dtype F32, expected I64, I32"])

        let u8 = try fixture("u8.safetensors", safetensorsFile(#"{"m": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}"#, [1, 0]))
        let masks = try SafeTensorsFile(contentsOf: u8)
        XCTAssertEqual(masks.info("m")?.dtype, "U8")
        assertFormatError(try masks.tensor("m"), path: u8, contains: ["tensor 'm' has dtype U8"])
    }
}
