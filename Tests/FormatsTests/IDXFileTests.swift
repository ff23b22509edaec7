import Foundation
import XCTest
@testable import Formats

final class IDXFileTests: FormatsTestCase {
    /// Three 2×3 images and their labels.
    let images = IDXFile(shape: [3, 2, 3], bytes: Array(0..<18).map { UInt8($0 * 14) })
    let labels = IDXFile(shape: [3], bytes: [7, 0, 9])

    func testEncodingIsTheDocumentedLayout() {
        XCTAssertEqual([UInt8](labels.encoded()), [0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9])
        XCTAssertEqual(Array([UInt8](images.encoded()).prefix(16)), [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3])
    }

    func testRoundTripPlainAndGzipped() throws {
        for gzip in [false, true] {
            let imageURL = file("images-\(gzip).idx"), labelURL = file("labels-\(gzip).idx")
            try images.write(to: imageURL, gzip: gzip)
            try labels.write(to: labelURL, gzip: gzip)
            XCTAssertEqual(try bytes(of: imageURL).prefix(2) == [0x1F, 0x8B], gzip)
            XCTAssertEqual(try IDXFile.read(imageURL), images)
            XCTAssertEqual(try IDXFile.read(labelURL, rank: 1), labels)
            let pair = try IDXFile.readLabeledImages(images: imageURL, labels: labelURL, classCount: 10)
            XCTAssertEqual(pair.images, images)
            XCTAssertEqual(pair.labels, [7, 0, 9])
        }
    }

    func testBadMagic() throws {
        let url = try fixture("bad.idx.gz", [UInt8](Gzip.compress(Data([1, 2, 8, 1, 0, 0, 0, 1, 5]))))
        assertFormatError(try IDXFile.read(url), path: url, contains: ["not a IDX file"])
        let float = try fixture("float.idx", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        assertFormatError(try IDXFile.read(float), path: float, contains: ["float32", "uint8"])
        // An image file where labels are expected.
        try images.write(to: file("images.idx.gz"), gzip: true)
        assertFormatError(try IDXFile.read(file("images.idx.gz"), rank: 1), path: file("images.idx.gz"),
                          contains: ["0x00000803", "expected 0x00000801"])
    }

    func testDimensionsThatDoNotMatchTheBytes() throws {
        var encoded = [UInt8](images.encoded())
        // Short by one image: truncated.
        let short = try fixture("short.idx.gz", [UInt8](Gzip.compress(Data(encoded.dropLast(6)))))
        assertFormatError(try IDXFile.read(short), path: short, contains: ["truncated", "3×2×3", "18 data bytes", "holds 12"])
        // A header that claims 2 images for 3 images' bytes.
        encoded[7] = 2
        let long = try fixture("long.idx", encoded)
        assertFormatError(try IDXFile.read(long), path: long, contains: ["2×2×3", "need 12 data bytes", "holds 18"])
        // Cut inside the header.
        let header = try fixture("header.idx", Array(encoded.prefix(9)))
        assertFormatError(try IDXFile.read(header), path: header, contains: ["truncated", "16-byte header"])
    }

    func testTruncatedGzip() throws {
        try images.write(to: file("images.gz"), gzip: true)
        let compressed = try bytes(of: file("images.gz"))
        let cut = try fixture("cut.gz", Array(compressed.dropLast(5)))
        assertFormatError(try IDXFile.read(cut), path: cut, contains: ["truncated"])
    }

    func testCountMismatchAndLabelsOutOfRange() throws {
        try images.write(to: file("images.gz"), gzip: true)
        try IDXFile(shape: [2], bytes: [1, 2]).write(to: file("two.gz"), gzip: true)
        assertFormatError(try IDXFile.readLabeledImages(images: file("images.gz"), labels: file("two.gz"), classCount: 10),
                          path: file("two.gz"), contains: ["holds 2 labels", "images.gz holds 3 images"])
        try IDXFile(shape: [3], bytes: [1, 10, 2]).write(to: file("range.gz"), gzip: true)
        assertFormatError(try IDXFile.readLabeledImages(images: file("images.gz"), labels: file("range.gz"), classCount: 10),
                          path: file("range.gz"), contains: ["label 10 at item 1", "outside 0…9"])
    }
}
