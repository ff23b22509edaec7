import Foundation
import TensorCore
import XCTest
import Formats
@testable import Datasets

final class ImageDatasetTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("DatasetsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `count` 28×28 images whose first pixel is the image's index (mod 256)
    /// and whose label is `label(index)`.
    func pixels(_ count: Int, label: (Int) -> Int) -> (pixels: [UInt8], labels: [UInt8]) {
        var pixels = [UInt8](repeating: 0, count: count * 784)
        for i in 0..<count {
            pixels[i * 784] = UInt8(i % 256)
            pixels[i * 784 + 783] = 255
        }
        return (pixels, (0..<count).map { UInt8(label($0)) })
    }

    func testPixelsMapToMinusOneToOne() {
        let set = ImageDataset(pixels: [0, 255, 127, 128], labels: [3], height: 2, width: 2, domain: .digit)
        XCTAssertEqual(set.images.shape, [1, 1, 2, 2])
        XCTAssertEqual(set.images.scalars, [-1, 1, 127 / 127.5 - 1, 128 / 127.5 - 1])
        XCTAssertEqual(set.jointLabels, [10])
        XCTAssertEqual(set.classLabels, [3])
    }

    func testFashionMNISTFromIDXFiles() throws {
        for split in DatasetSplit.allCases {
            let (bytes, labels) = pixels(split == .train ? 30 : 20) { $0 % 10 }
            let names = ImageDataset.fashionMNISTFiles(split)
            try IDXFile(shape: [labels.count, 28, 28], bytes: bytes)
                .write(to: directory.appendingPathComponent(names.images), gzip: true)
            try IDXFile(shape: [labels.count], bytes: labels).write(to: directory.appendingPathComponent(names.labels), gzip: true)
        }
        let train = try ImageDataset.fashionMNIST(.train, in: directory)
        XCTAssertEqual(train.images.shape, [30, 1, 28, 28])
        XCTAssertEqual(train.classHistogram(), Array(repeating: 3, count: 10))
        XCTAssertEqual(train.images.scalars[784 * 5], 5 / 127.5 - 1)
        XCTAssertEqual(train.jointLabels, train.classLabels)
        XCTAssertEqual(try ImageDataset.fashionMNIST(.test, in: directory).count, 20)
        // A missing file is named.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        XCTAssertThrowsError(try ImageDataset.fashionMNIST(.test, in: directory)) { error in
            XCTAssertTrue((error as? FormatError)?.errorDescription?.contains("t10k-labels-idx1-ubyte.gz: missing file") == true, "\(error)")
        }
    }

    func testMNIST5kSplitTakesTheLastImagesOfEachClass() {
        // Classes interleaved and of unequal size: 0 1 2 0 1 2 …, then extra 0s.
        let labels = (0..<12).map { $0 % 3 } + [0, 0]
        let split = ImageDataset.mnist5kSplit(labels: labels, testPerClass: 2)
        XCTAssertEqual(split.test, [7, 8, 10, 11, 12, 13])
        XCTAssertEqual(split.train, [0, 1, 2, 3, 4, 5, 6, 9])
        // A class with fewer images than testPerClass goes wholly to test.
        XCTAssertEqual(ImageDataset.mnist5kSplit(labels: [4, 5, 5, 5], testPerClass: 2).test, [0, 2, 3])
    }

    func testMNIST5kFromCSV() throws {
        let (bytes, labels) = pixels(10 * 60) { $0 / 60 }   // sorted by class, 60 each
        let url = directory.appendingPathComponent("mnist.csv.gz")
        try Gzip.compress(LabeledPixelsCSV(pixels: bytes, labels: labels, featureCount: 784).encoded()).write(to: url)
        let train = try ImageDataset.mnist5k(.train, file: url)
        let test = try ImageDataset.mnist5k(.test, file: url)
        XCTAssertEqual(train.classHistogram(), Array(repeating: 10, count: 10))
        XCTAssertEqual(test.classHistogram(), Array(repeating: 50, count: 10))
        XCTAssertEqual(Set(test.domains), [.digit])
        // Test image 0 is file row 10 (the 11th "0").
        XCTAssertEqual(test.images.scalars[0], 10 / 127.5 - 1)
        XCTAssertEqual(train.images.scalars[784 * 10], Float(60 % 256) / 127.5 - 1)
    }

    func testUnionAndSubset() {
        let (fashionPixels, fashionLabels) = pixels(4) { $0 }
        let fashion = ImageDataset(pixels: fashionPixels, labels: fashionLabels, height: 28, width: 28, domain: .fashion)
        let (digitPixels, digitLabels) = pixels(3) { 9 - $0 }
        let digits = ImageDataset(pixels: digitPixels, labels: digitLabels, height: 28, width: 28, domain: .digit)
        let both = ImageDataset.union([fashion, digits])
        XCTAssertEqual(both.images.shape, [7, 1, 28, 28])
        XCTAssertEqual(both.classLabels, [0, 1, 2, 3, 9, 8, 7])
        XCTAssertEqual(both.jointLabels, [0, 1, 2, 3, 10, 10, 10])
        XCTAssertEqual(both.domains, [.fashion, .fashion, .fashion, .fashion, .digit, .digit, .digit])
        XCTAssertEqual(Array(both.images.scalars[784 * 5..<784 * 6]), Array(digits.images.scalars[784..<784 * 2]))
        let picked = both.subset([6, 0])
        XCTAssertEqual(picked.classLabels, [7, 0])
        XCTAssertEqual(picked.domains, [.digit, .fashion])
        XCTAssertEqual(Array(picked.images.scalars.prefix(784)), Array(digits.images.scalars[784 * 2..<784 * 3]))
    }
}
