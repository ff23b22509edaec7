import XCTest
@testable import Formats
import TensorCore

final class PNGImageTests: XCTestCase {
    func directory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-png-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testRoundTripAndGrid() throws {
        let d = directory()
        var pixels = [UInt8](repeating: 0, count: 5 * 3 * 3)
        for i in 0..<pixels.count { pixels[i] = UInt8((i * 37) % 256) }
        let image = PNGImage(width: 5, height: 3, pixels: pixels)
        try image.write(to: d.appendingPathComponent("a.png"))
        XCTAssertEqual(try PNGImage.read(d.appendingPathComponent("a.png")), image)

        // Two 2×2 images: one black, one white; border 1 of gray 128.
        var t = Tensor(repeating: -1, shape: [2, 3, 2, 2])
        for i in 12..<24 { t.scalars[i] = 1 }
        let grid = PNGImage.grid(t, columns: 2, border: 1, background: 128)
        XCTAssertEqual(grid.width, 2 * 2 + 3)
        XCTAssertEqual(grid.height, 2 + 2)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(grid.pixels[((y * grid.width + x) * 3)..<((y * grid.width + x) * 3 + 3)]) }
        XCTAssertEqual(pixel(0, 0), [128, 128, 128])
        XCTAssertEqual(pixel(1, 1), [0, 0, 0])
        XCTAssertEqual(pixel(4, 2), [255, 255, 255])
        try grid.write(to: d.appendingPathComponent("grid.png"))
        XCTAssertEqual(try PNGImage.read(d.appendingPathComponent("grid.png")), grid)
    }

    func testBadFilesAreClear() throws {
        let d = directory()
        func message(_ url: URL) -> String {
            do { _ = try PNGImage.read(url); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        try Data("not a picture".utf8).write(to: d.appendingPathComponent("x.png"))
        XCTAssertTrue(message(d.appendingPathComponent("x.png")).contains("x.png"))
        let good = d.appendingPathComponent("g.png")
        try PNGImage(width: 8, height: 8, pixels: [UInt8](repeating: 9, count: 192)).write(to: good)
        let bytes = try Data(contentsOf: good)
        try bytes.prefix(bytes.count - 20).write(to: d.appendingPathComponent("cut.png"))
        let cut = message(d.appendingPathComponent("cut.png"))
        XCTAssertTrue(cut.contains("cut.png"), cut)
        XCTAssertTrue(message(d.appendingPathComponent("none.png")).contains("none.png"))
    }
}
