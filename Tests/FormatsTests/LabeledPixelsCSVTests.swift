import Foundation
import XCTest
@testable import Formats

final class LabeledPixelsCSVTests: FormatsTestCase {
    /// Two rows of four pixels.
    let table = LabeledPixelsCSV(pixels: [0, 255, 7, 128, 1, 2, 3, 4], labels: [9, 0], featureCount: 4)

    func read(_ url: URL, labelColumn: LabeledPixelsCSV.LabelColumn = .last) throws -> LabeledPixelsCSV {
        try LabeledPixelsCSV.read(url, featureCount: 4, labelColumn: labelColumn, classCount: 10)
    }

    func testRoundTripPlainAndGzipped() throws {
        XCTAssertEqual(String(decoding: table.encoded(), as: UTF8.self), "0,255,7,128,9\n1,2,3,4,0\n")
        let plain = file("t.csv"), zipped = file("t.csv.gz")
        try table.encoded().write(to: plain)
        try Gzip.compress(table.encoded()).write(to: zipped)
        XCTAssertEqual(try read(plain), table)
        XCTAssertEqual(try read(zipped), table)
        try Gzip.compress(table.encoded(labelColumn: .first)).write(to: file("first.csv.gz"))
        XCTAssertEqual(try read(file("first.csv.gz"), labelColumn: .first), table)
        // CRLF line ends, no final newline.
        let crlf = try fixture("crlf.csv", Array("0,255,7,128,9\r\n1,2,3,4,0".utf8))
        XCTAssertEqual(try read(crlf), table)
    }

    func expectError(_ text: String, _ fragments: [String], line: UInt = #line) throws {
        let url = file("bad.csv.gz")
        try Gzip.compress(Data(text.utf8)).write(to: url)
        assertFormatError(try read(url), path: url, contains: fragments, line: line)
    }

    func testWrongColumnCount() throws {
        try expectError("0,255,7,128,9\n1,2,3,0\n", ["line 2", "4 columns, expected 5"])
        try expectError("0,255,7,128,9,3\n", ["line 1", "more than 5 columns"])
    }

    func testNonIntegerValues() throws {
        try expectError("0,255,7.5,128,9\n", ["line 1", "column 3", "'7.5' is not a non-negative integer"])
        try expectError("0,255,,128,9\n", ["line 1", "column 3", "'' is not"])
        try expectError("0,-1,7,128,9\n", ["column 2", "'-1'"])
        try expectError("a,b,c,d,label\n", ["line 1", "column 1", "'a'"])
    }

    func testValuesOutOfRange() throws {
        try expectError("0,255,7,128,9\n0,256,7,128,9\n", ["line 2", "column 2", "pixel value 256 is outside 0…255"])
        try expectError("0,255,7,128,10\n", ["line 1", "column 5", "label 10 is outside 0…9"])
    }

    func testEmptyAndNotGzip() throws {
        try expectError("\n\n", ["no rows"])
        let url = try fixture("binary.csv", [0x89, 0x50, 0x4E, 0x47])
        assertFormatError(try read(url), path: url, contains: ["line 1", "not a non-negative integer"])
    }
}
