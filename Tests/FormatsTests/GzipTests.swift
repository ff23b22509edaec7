import Foundation
import XCTest
@testable import Formats

final class GzipTests: FormatsTestCase {
    /// Bytes that compress well followed by bytes that do not, longer than one inflate chunk.
    func sampleBytes(_ count: Int = 300_000) -> [UInt8] {
        var state: UInt32 = 12345
        return (0..<count).map { i in
            if i < count / 2 { return UInt8(i / 1000 % 256) }
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(state >> 24)
        }
    }

    func testRoundTrip() throws {
        for bytes in [sampleBytes(), [], [42]] {
            let compressed = Gzip.compress(Data(bytes))
            XCTAssertEqual(Array(compressed.prefix(3)), [0x1F, 0x8B, 0x08])
            let url = file("x.gz")
            try compressed.write(to: url)
            XCTAssertEqual(try Gzip.decompress(contentsOf: url), bytes)
            XCTAssertEqual(try Gzip.contents(of: url), bytes)
        }
        // A file without the gzip signature is read as it is.
        let plain = try fixture("plain.bin", [1, 2, 3])
        XCTAssertEqual(try Gzip.contents(of: plain), [1, 2, 3])
    }

    func testSystemGunzipReadsWhatWeWrite() throws {
        let gzip = URL(fileURLWithPath: "/bin/gzip")
        guard FileManager.default.isExecutableFile(atPath: gzip.path) else { throw XCTSkip("no /bin/gzip to compare with") }
        let bytes = sampleBytes(100_000)
        try Gzip.compress(Data(bytes)).write(to: file("ours.gz"))
        let process = Process()
        process.executableURL = gzip
        process.arguments = ["-dc", file("ours.gz").path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual([UInt8](data), bytes)
    }

    func testConcatenatedMembersReadAsOneStream() throws {
        let first = sampleBytes(70_000), second: [UInt8] = Array("tail".utf8)
        let url = file("two.gz")
        try (Gzip.compress(Data(first)) + Gzip.compress(Data(second))).write(to: url)
        XCTAssertEqual(try Gzip.decompress(contentsOf: url), first + second)
    }

    func testNotGzip() throws {
        let url = try fixture("plain.idx", Array("not compressed at all".utf8))
        assertFormatError(try Gzip.decompress(contentsOf: url), path: url, contains: ["not a gzip file"])
        let empty = try fixture("empty.gz", [])
        assertFormatError(try Gzip.decompress(contentsOf: empty), path: empty, contains: ["empty file"])
    }

    func testTruncatedStream() throws {
        let compressed = [UInt8](Gzip.compress(Data(sampleBytes())))
        for keep in [compressed.count - 4, compressed.count / 2, 12] {
            let url = try fixture("cut-\(keep).gz", Array(compressed.prefix(keep)))
            assertFormatError(try Gzip.decompress(contentsOf: url), path: url,
                              contains: ["truncated", "without its end marker"])
        }
    }

    func testDamagedChecksumOrData() throws {
        var compressed = [UInt8](Gzip.compress(Data(sampleBytes())))
        compressed[compressed.count - 8] ^= 0xFF   // the CRC-32 of the trailer
        let url = try fixture("crc.gz", compressed)
        assertFormatError(try Gzip.decompress(contentsOf: url), path: url, contains: ["damaged gzip stream", "incorrect data check"])
        var header = [UInt8](Gzip.compress(Data(sampleBytes())))
        header[2] = 7   // compression method other than deflate
        let bad = try fixture("method.gz", header)
        assertFormatError(try Gzip.decompress(contentsOf: bad), path: bad, contains: ["damaged gzip stream"])
    }
}
