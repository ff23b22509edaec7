import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// Edge maps, masks and EfficientNet's input for gray 28×28 images.
final class ImageOperatorsTests: XCTestCase {
    /// A vertical step: background (−1) in columns 0…13, ink (+1) in 14…27.
    var stepEdge: Tensor {
        Tensor(shape: [1, 1, 28, 28], scalars: (0..<784).map { $0 % 28 >= 14 ? 1 : -1 })
    }

    func testSobelOfAStepEdgeMatchesHandComputedValues() {
        let e = ImageOperators.sobelEdges(stepEdge)
        XCTAssertEqual(e.shape, [1, 1, 28, 28])
        func at(_ r: Int, _ c: Int) -> Float { e.scalars[r * 28 + c] }
        // With u = (x + 1)/2 and zero padding, the largest magnitude is √18, at the
        // top row, column 14: gx = (0 + 2 + 1) − 0 = 3, gy = (0 + 2 + 1) − 0 = 3 (the
        // row above is padding); likewise at the corners (0, 27), (27, 14), (27, 27).
        let largest = Float(18).squareRoot()
        func expected(_ magnitude: Float) -> Float { 2 * magnitude / largest - 1 }
        for (r, c) in [(0, 14), (0, 27), (27, 14), (27, 27)] { XCTAssertEqual(at(r, c), 1, accuracy: 1e-6) }
        // Inside, columns 13 and 14 have gx = (1 + 2 + 1)·1 = 4, gy = 0; column 27 has
        // gx = −4 (ink against the padding); flat columns have 0.
        for r in 1...26 {
            XCTAssertEqual(at(r, 13), expected(4), accuracy: 1e-6)
            XCTAssertEqual(at(r, 14), expected(4), accuracy: 1e-6)
            XCTAssertEqual(at(r, 27), expected(4), accuracy: 1e-6)
            for c in [0, 5, 12, 15, 20, 25] { XCTAssertEqual(at(r, c), -1, accuracy: 1e-6, "(\(r), \(c))") }
        }
        // Top row: column 13 has gx = (2 + 1)·1 = 3, gy = u[1,14] = 1 → √10; column 20
        // has gx = 0, gy = 1 + 2 + 1 = 4; column 5 sees only background.
        XCTAssertEqual(at(0, 13), expected(Float(10).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(at(0, 20), expected(4), accuracy: 1e-6)
        XCTAssertEqual(at(0, 5), -1, accuracy: 1e-6)
        XCTAssertEqual(expected(4), 0.885_618_3, accuracy: 1e-6)
    }

    func testSobelOfBlankImagesAndIndependentNormalisation() {
        let blank = ImageOperators.sobelEdges(Tensor(repeating: -1, shape: [1, 1, 28, 28]))
        XCTAssertTrue(blank.scalars.allSatisfy { $0 == -1 })
        // A faint copy of the step has the same normalised edges; each image is scaled on its own.
        var faint = stepEdge
        for i in faint.scalars.indices where faint.scalars[i] > 0 { faint.scalars[i] = -0.5 }
        let both = ImageOperators.sobelEdges(Tensor.concatenateRows([stepEdge.reshaped([1, 784]), faint.reshaped([1, 784])])
            .reshaped([2, 1, 28, 28]))
        let strong = ImageOperators.sobelEdges(stepEdge)
        for p in 0..<784 {
            XCTAssertEqual(both.scalars[p], strong.scalars[p], accuracy: 1e-6)
            XCTAssertEqual(both.scalars[784 + p], strong.scalars[p], accuracy: 1e-5)
        }
    }

    func testLowerHalfMask() {
        var g = SeededGenerator(seed: 1)
        let x = g.normalTensor([3, 1, 28, 28])
        let y = ImageOperators.masked(x, region: .lowerHalf)
        for n in 0..<3 {
            for p in 0..<784 {
                let i = n * 784 + p
                XCTAssertEqual(y.scalars[i], p / 28 >= 14 ? -1 : x.scalars[i])
            }
        }
        XCTAssertEqual(MaskRegion.upperHalf.box(forImage: 0, height: 28, width: 28), ImageBox(top: 0, left: 0, height: 14, width: 28))
    }

    func testRandomBoxesCoverFortyToFiftyPercent() {
        let region = MaskRegion.randomBox(seed: 7)
        var coverages: [Double] = [], boxes = Set<[Int]>()
        for i in 0..<2000 {
            let box = region.box(forImage: i, height: 28, width: 28)
            XCTAssertTrue(box.top >= 0 && box.left >= 0 && box.top + box.height <= 28 && box.left + box.width <= 28, "\(box)")
            coverages.append(Double(box.area) / 784)
            boxes.insert([box.top, box.left, box.height, box.width])
        }
        XCTAssertGreaterThanOrEqual(coverages.min()!, 0.37)
        XCTAssertLessThanOrEqual(coverages.max()!, 0.53)
        XCTAssertEqual(coverages.reduce(0, +) / 2000, 0.45, accuracy: 0.01)
        XCTAssertGreaterThan(boxes.count, 500, "boxes should vary in size and position")
        XCTAssertEqual(region.box(forImage: 5, height: 28, width: 28), MaskRegion.randomBox(seed: 7).box(forImage: 5, height: 28, width: 28))
        XCTAssertNotEqual((0..<20).map { region.box(forImage: $0, height: 28, width: 28) },
                          (0..<20).map { MaskRegion.randomBox(seed: 8).box(forImage: $0, height: 28, width: 28) })
        // The masked pixels are exactly the box, and they are background.
        let x = Tensor(repeating: 0.5, shape: [4, 1, 28, 28])
        let y = ImageOperators.masked(x, region: region)
        for n in 0..<4 {
            let box = region.box(forImage: n, height: 28, width: 28)
            let hidden = y.scalars[(n * 784)..<((n + 1) * 784)].filter { $0 == -1 }.count
            XCTAssertEqual(hidden, box.area)
        }
    }

    /// The direct conversion equals saving each image as a PNG and loading it
    /// through `ImageInput.load` + `modelInput`, bit for bit.
    func testEfficientNetInputEqualsThePNGRoute() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-operators-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var g = SeededGenerator(seed: 3)
        // Data-set images (x = u8/127.5 − 1), arbitrary values in [-1, 1], and an edge map.
        let bytes = (0..<784).map { _ in Float(g.next() % 256) / 127.5 - 1 }
        let arbitrary = (0..<784).map { _ in 2 * g.nextUniform() - 1 }
        let edges = ImageOperators.sobelEdges(stepEdge).scalars
        let gray = Tensor(shape: [3, 1, 28, 28], scalars: bytes + arbitrary + edges)
        var paths: [String] = []
        for n in 0..<3 {
            let pixels = (0..<784).flatMap { p -> [UInt8] in
                let u8 = UInt8(max(0, min(255, ((gray.scalars[n * 784 + p] + 1) * 127.5).rounded())))
                return [u8, u8, u8]
            }
            let url = directory.appendingPathComponent("image\(n).png")
            try PNGImage(width: 28, height: 28, pixels: pixels).write(to: url)
            paths.append(url.path)
        }
        let expected = ImageInput.modelInput(try ImageInput.load(paths))
        let direct = ImageOperators.efficientNetInput(gray)
        XCTAssertEqual(direct.shape, [3, 3, 224, 224])
        XCTAssertEqual(direct.shape, expected.shape)
        let mismatches = zip(direct.scalars, expected.scalars).filter { $0 != $1 }.count
        XCTAssertEqual(mismatches, 0)
        // Background maps to (0 − 127)/128 and full ink to (255 − 127)/128.
        let blank = ImageOperators.efficientNetInput(Tensor(repeating: -1, shape: [1, 1, 28, 28]))
        XCTAssertTrue(blank.scalars.allSatisfy { $0 == -127.0 / 128 })
        let full = ImageOperators.efficientNetInput(Tensor(repeating: 1, shape: [1, 1, 28, 28]))
        XCTAssertTrue(full.scalars.allSatisfy { $0 == 1 })
    }

    /// RGB images (a DCGAN face is [N, 3, 64, 64]) take the same PNG route, channel by channel.
    func testEfficientNetInputOfRGBEqualsThePNGRoute() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-operators-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var g = SeededGenerator(seed: 5)
        let side = 64, plane = side * side
        let rgb = Tensor(shape: [2, 3, side, side], scalars: (0..<(2 * 3 * plane)).map { _ in 2 * g.nextUniform() - 1 })
        let url = directory.appendingPathComponent("faces.png")
        // One face per PNG: a one-image grid without a border is the image itself.
        var expected: [Float] = []
        for n in 0..<2 {
            try PNGImage.grid(Tensor(shape: [1, 3, side, side], scalars: Array(rgb.scalars[(n * 3 * plane)..<((n + 1) * 3 * plane)])),
                              columns: 1, border: 0).write(to: url)
            expected += ImageInput.modelInput(try ImageInput.load([url.path])).scalars
        }
        let direct = ImageOperators.efficientNetInput(rgb)
        XCTAssertEqual(direct.shape, [2, 3, 224, 224])
        XCTAssertEqual(zip(direct.scalars, expected).filter { $0 != $1 }.count, 0)
        // Gray is the mean of the channels.
        let gray = ImageOperators.gray(rgb)
        XCTAssertEqual(gray.shape, [2, 1, side, side])
        XCTAssertEqual(gray.scalars[7], (rgb.scalars[7] + rgb.scalars[plane + 7] + rgb.scalars[2 * plane + 7]) / 3, accuracy: 1e-6)
    }
}
