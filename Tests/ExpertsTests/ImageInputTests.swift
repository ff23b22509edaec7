import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// Image files for the image expert: bilinear resizing, PNG channel
/// conventions, `.npy` arrays and their errors.
final class ImageInputTests: XCTestCase {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
    }

    /// Half-pixel bilinear written out per output pixel in Double.
    func naiveResize(_ x: [Float], channels: Int, height: Int, width: Int, toHeight: Int, toWidth: Int) -> [Double] {
        func at(_ c: Int, _ r: Int, _ q: Int) -> Double { Double(x[(c * height + r) * width + q]) }
        var y: [Double] = []
        for c in 0..<channels {
            for i in 0..<toHeight {
                for j in 0..<toWidth {
                    let sr = max(0, (Double(i) + 0.5) * Double(height) / Double(toHeight) - 0.5)
                    let sq = max(0, (Double(j) + 0.5) * Double(width) / Double(toWidth) - 0.5)
                    let r0 = Int(sr.rounded(.down)), q0 = Int(sq.rounded(.down))
                    let r1 = min(r0 + 1, height - 1), q1 = min(q0 + 1, width - 1)
                    let a = sr - Double(r0), b = sq - Double(q0)
                    y.append((1 - a) * ((1 - b) * at(c, r0, q0) + b * at(c, r0, q1))
                             + a * ((1 - b) * at(c, r1, q0) + b * at(c, r1, q1)))
                }
            }
        }
        return y
    }

    func testResizeBilinearMatchesNaiveAndPyTorch() throws {
        var g = SeededGenerator(seed: 5)
        let x = g.normalTensor([2 * 5 * 11]).scalars
        for (h, w) in [(5, 11), (9, 4), (1, 1), (3, 17), (224, 224)] {
            let ours = ImageInput.resizeBilinear(x, channels: 2, height: 5, width: 11, toHeight: h, toWidth: w)
            let naive = naiveResize(x, channels: 2, height: 5, width: 11, toHeight: h, toWidth: w)
            XCTAssertEqual(ours.count, naive.count)
            let worst = zip(ours, naive).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
            XCTAssertLessThan(worst, 1e-5, "\(h)×\(w)")
        }
        // Same size is the identity.
        XCTAssertEqual(ImageInput.resizeBilinear(x, channels: 2, height: 5, width: 11, toHeight: 5, toWidth: 11), x)
        // torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False).
        let source = try NPY.readFloat32(TestAssets.fixture("resize_input.npy"))
        XCTAssertEqual(source.shape, [1, 3, 7, 9])
        for (h, w) in [(12, 5), (3, 4)] {
            let reference = try NPY.readFloat32(TestAssets.fixture("resize_\(h)x\(w).npy"))
            let ours = ImageInput.resizeBilinear(source.scalars, channels: 3, height: 7, width: 9, toHeight: h, toWidth: w)
            let worst = zip(ours, reference.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            XCTAssertLessThan(worst, 1e-5, "PyTorch \(h)×\(w)")
        }
    }

    func testGrayAndRGBAPNGs() throws {
        // gray.png: 5×4 8-bit gray, value 13·k at pixel k → replicated to RGB.
        let gray = try PNGImage.read(TestAssets.fixture("gray.png"), alpha: .drop)
        XCTAssertEqual([gray.width, gray.height], [5, 4])
        XCTAssertEqual(gray.pixels, (0..<20).flatMap { k in Array(repeating: UInt8(13 * k), count: 3) })
        // rgba.png: R 200, G 10·k, B 7, alpha 12·k → alpha dropped, colour kept (also where alpha is 0).
        let rgba = try PNGImage.read(TestAssets.fixture("rgba.png"), alpha: .drop)
        XCTAssertEqual(rgba.pixels, (0..<20).flatMap { k in [200, UInt8(10 * k), 7] })
        // Loading resizes both to the model's side.
        let batch = try ImageInput.load([TestAssets.fixture("gray.png").path, TestAssets.fixture("rgba.png").path])
        XCTAssertEqual(batch.count, 2)
        XCTAssertEqual(batch.pixels.count, 2 * 224 * 224 * 3)
        let planar = (0..<3).flatMap { c in (0..<20).map { Float(rgba.pixels[3 * $0 + c]) } }
        let expected = ImageInput.resizeBilinear(planar, channels: 3, height: 4, width: 5, toHeight: 224, toWidth: 224)
        for p in stride(from: 0, to: 224 * 224, by: 997) {
            for c in 0..<3 {
                XCTAssertEqual(batch.pixels[(224 * 224 + p) * 3 + c], UInt8(expected[c * 224 * 224 + p].rounded()))
            }
        }
        let x = ImageInput.modelInput(batch)
        XCTAssertEqual(x.shape, [2, 3, 224, 224])
        XCTAssertEqual(x.scalars[0], -127 / 128)  // gray 0 at the top left
        XCTAssertEqual(x.scalars[224 * 224 * 3], (200 - 127) / 128)  // red of the RGBA image
    }

    func testDirectoriesArraysAndErrors() throws {
        let d = try temporaryDirectory()
        for name in ["b.png", "a.PNG"] {
            try FileManager.default.copyItem(at: TestAssets.fixture("gray.png"), to: d.appendingPathComponent(name))
        }
        try Data("not an image".utf8).write(to: d.appendingPathComponent("notes.txt"))
        let fromDirectory = try ImageInput.load([d.path])
        XCTAssertEqual(fromDirectory.names.map { ($0 as NSString).lastPathComponent }, ["a.PNG", "b.png"])

        let text = d.appendingPathComponent("notes.txt").path
        XCTAssertTrue(message { _ = try ImageInput.load([text]) }.contains("notes.txt: not a PNG file"))
        XCTAssertTrue(message { _ = try ImageInput.load([d.appendingPathComponent("missing.png").path]) }
            .contains("missing.png: no such file"))
        let small = d.appendingPathComponent("small.npy")
        try NPY.write(uint8: [UInt8](repeating: 0, count: 2 * 32 * 32 * 3), shape: [2, 32, 32, 3], to: small)
        XCTAssertTrue(message { _ = try ImageInput.load([small.path]) }.contains("small.npy: images must be [N, 224, 224, 3], got [2, 32, 32, 3]"))
        let four = d.appendingPathComponent("four.npy")
        try NPY.write(uint8: [UInt8](repeating: 0, count: 224 * 224 * 4), shape: [1, 224, 224, 4], to: four)
        XCTAssertTrue(message { _ = try ImageInput.load([four.path]) }.contains("four.npy: images must have 3 channels"))
        let floats = d.appendingPathComponent("floats.npy")
        try NPY.write(Tensor(zeros: [1, 224, 224, 3]), to: floats)
        XCTAssertTrue(message { _ = try ImageInput.load([floats.path]) }.contains("floats.npy: images must be a uint8 array"))
        let arrays = try ImageInput.load([TestAssets.fixture("efficientnet_images.npy").path, d.path])
        XCTAssertEqual(arrays.count, 6)
        XCTAssertTrue(arrays.names[3].hasSuffix("efficientnet_images.npy[3]"))
    }
}
