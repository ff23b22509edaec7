import Foundation
import XCTest
@testable import Formats

/// Crafted array, image and compressed files (from
/// `scripts/fixtures/make_hostile_files.py`): each is refused with a clean
/// `FormatError` before anything of the claimed size is allocated.
final class HostileArrayTests: FormatsTestCase {
    func hostile(_ name: String) -> URL { HostileCheckpointTests.hostile.appendingPathComponent(name) }

    // MARK: safetensors

    func testOverlappingSafeTensorsAreRefusedAsTheReferenceDoes() {
        let url = hostile("safetensors_overlap.safetensors")
        assertFormatError(try SafeTensorsFile(contentsOf: url, limits: .defaults), path: url,
                          contains: ["tensor 'b'", "data_offsets [8, 24] overlaps the tensor before it"])
    }

    func testGapsAndTrailingBytesAreRefused() {
        let gap = hostile("safetensors_gap.safetensors")
        assertFormatError(try SafeTensorsFile(contentsOf: gap, limits: .defaults), path: gap,
                          contains: ["tensor 'b'", "leaves a gap"])
        let trailing = hostile("safetensors_trailing_data.safetensors")
        assertFormatError(try SafeTensorsFile(contentsOf: trailing, limits: .defaults), path: trailing,
                          contains: ["the tensors cover 16 of the 24 data bytes"])
    }

    func testSafeTensorsHeaderLengthBeyondTheFile() {
        let url = hostile("safetensors_header_past_end.safetensors")
        assertFormatError(try SafeTensorsFile(contentsOf: url, limits: .defaults), path: url,
                          contains: ["header length 4096 exceeds the 72-byte file"])
    }

    func testSafeTensorsElementAndHeaderLimits() throws {
        let url = file("t.safetensors")
        try SafeTensorsFile.write([("a", .float32(.init(shape: [4], scalars: [1, 2, 3, 4]))),
                                   ("b", .float32(.init(shape: [4], scalars: [1, 2, 3, 4])))], to: url)
        var limits = FormatLimits.defaults
        limits.tensorElements = 3
        assertFormatError(try SafeTensorsFile(contentsOf: url, limits: limits), path: url,
                          contains: ["tensor 'a' 4", "elements per tensor 4 exceeds the limit 3"])
        limits = .defaults
        limits.fileElements = 7
        assertFormatError(try SafeTensorsFile(contentsOf: url, limits: limits), path: url,
                          contains: ["tensor elements per file 8 exceeds the limit 7"])
        limits = .defaults
        limits.safeTensorsHeaderBytes = 16
        assertFormatError(try SafeTensorsFile(contentsOf: url, limits: limits), path: url,
                          contains: ["safetensors header bytes", "exceeds the limit 16"])
    }

    // MARK: .npy

    func testHugeNPYShapes() {
        let overflow = hostile("npy_shape_overflow.npy")
        assertFormatError(try NPY.read(overflow, limits: .defaults), path: overflow,
                          contains: ["shape 4294967296×4294967296×4294967296 is too large"])
        let tenGigabytes = hostile("npy_shape_10g.npy")
        assertFormatError(try NPY.read(tenGigabytes, limits: .defaults), path: tenGigabytes,
                          contains: ["elements per tensor 10000000000 exceeds the limit"])
        var limits = FormatLimits.defaults
        limits.tensorElements = 1 << 40
        assertFormatError(try NPY.read(tenGigabytes, limits: limits), path: tenGigabytes,
                          contains: ["truncated", "only 16 bytes of data"])
    }

    func testNPYHeaderLimit() throws {
        let url = file("a.npy")
        try NPY.write(uint8: [1, 2], shape: [2], to: url)
        var limits = FormatLimits.defaults
        limits.npyHeaderBytes = 32
        assertFormatError(try NPY.read(url, limits: limits), path: url, contains: [".npy header bytes 118 exceeds the limit 32"])
    }

    // MARK: PNG

    func testPNGHeaderClaimingTenBillionPixelsIsRefusedBeforeDecoding() throws {
        let url = hostile("png_header_100000x100000.png")
        XCTAssertEqual(try bytes(of: url).count, 68)
        assertFormatError(try PNGImage.read(url, alpha: .drop, limits: .defaults), path: url,
                          contains: ["PNG of 100000×100000", "image pixels 10000000000 exceeds the limit 100000000",
                                     "NET2NET_MAX_IMAGE_PIXELS"])
    }

    func testARealPNGAboveThePixelLimit() throws {
        let url = hostile("png_gray_12000x12000.png")
        assertFormatError(try PNGImage.read(url, alpha: .drop, limits: .defaults), path: url,
                          contains: ["image pixels 144000000 exceeds the limit 100000000"])
        // It is a genuine image: with the limit raised and a smaller one of
        // the same kind, decoding works.
        let small = file("small.png")
        try PNGImage(width: 30, height: 20, pixels: [UInt8](repeating: 9, count: 30 * 20 * 3)).write(to: small)
        var limits = FormatLimits.defaults
        limits.imagePixels = 600
        XCTAssertEqual(try PNGImage.read(small, alpha: .drop, limits: limits).width, 30)
        limits.imagePixels = 599
        assertFormatError(try PNGImage.read(small, alpha: .drop, limits: limits), path: small,
                          contains: ["PNG of 30×20", "image pixels 600 exceeds the limit 599"])
    }

    // MARK: gzip, IDX, CSV

    func testGzipBombStopsAtTheRatioLimit() {
        let url = hostile("gzip_bomb.gz")
        assertFormatError(try Gzip.decompress(contentsOf: url, limits: .defaults), path: url,
                          contains: ["compression ratio", "exceeds the limit 1000", "NET2NET_MAX_COMPRESSION_RATIO"])
        var limits = FormatLimits.defaults
        limits.compressionRatio = 2000
        XCTAssertEqual(try Gzip.decompress(contentsOf: url, limits: limits).count, 32 << 20)
        limits.inflatedBytes = 1 << 22
        assertFormatError(try Gzip.decompress(contentsOf: url, limits: limits), path: url,
                          contains: ["inflated bytes", "exceeds the limit 4194304"])
    }

    func testTruncatedGzip() {
        let url = hostile("truncated.gz")
        assertFormatError(try Gzip.decompress(contentsOf: url, limits: .defaults), path: url,
                          contains: ["truncated", "without its end marker"])
    }

    func testIDXDimensionsAgainstFileLengthAndLimits() throws {
        let url = hostile("idx_dimensions_overflow.idx")
        assertFormatError(try IDXFile.read(url, limits: .defaults), path: url, contains: ["overflow"])
        let images = file("images.idx")
        try IDXFile(shape: [3, 2, 2], bytes: [UInt8](repeating: 1, count: 12)).write(to: images)
        var limits = FormatLimits.defaults
        limits.tensorElements = 11
        assertFormatError(try IDXFile.read(images, limits: limits), path: images,
                          contains: ["IDX array 3×2×2", "elements per tensor 12 exceeds the limit 11"])
    }

    func testCSVSizeLimit() throws {
        let url = file("rows.csv.gz")
        try Gzip.compress(Data("1,2,3\n4,5,6\n".utf8)).write(to: url)
        var limits = FormatLimits.defaults
        limits.csvBytes = 12
        XCTAssertEqual(try LabeledPixelsCSV.read(url, featureCount: 2, classCount: 10, limits: limits).count, 2)
        limits.csvBytes = 11
        assertFormatError(try LabeledPixelsCSV.read(url, featureCount: 2, classCount: 10, limits: limits), path: url,
                          contains: ["exceeds the limit 11"])
    }

    // MARK: Limits from the environment

    func testLimitsComeFromTheEnvironmentWhenSet() {
        XCTAssertEqual(FormatLimits.fromEnvironment([:]), .defaults)
        let raised = FormatLimits.fromEnvironment(["NET2NET_MAX_TENSOR_ELEMENTS": "5000000000",
                                                   "NET2NET_MAX_SAFETENSORS_HEADER_BYTES": "200000000",
                                                   "NET2NET_MAX_PICKLE_DEPTH": "not a number",
                                                   "NET2NET_MAX_IMAGE_PIXELS": "-3"])
        XCTAssertEqual(raised.tensorElements, 5_000_000_000)
        XCTAssertEqual(raised.safeTensorsHeaderBytes, 200_000_000)
        XCTAssertEqual(raised.pickleDepth, FormatLimits.defaults.pickleDepth)
        XCTAssertEqual(raised.imagePixels, FormatLimits.defaults.imagePixels)
        XCTAssertEqual(Set(FormatLimits.Name.allCases.map(\.environmentVariable)).count, FormatLimits.Name.allCases.count)
        XCTAssertEqual(FormatLimits.Name.csvBytes.environmentVariable, "NET2NET_MAX_CSV_BYTES")
    }
}
