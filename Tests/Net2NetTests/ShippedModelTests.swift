import XCTest
import Datasets
import Experts
import Formats
import TensorCore
@testable import Net2Net

/// The shipped autoencoder and classifier (models/) on the real held-out
/// images: Fashion-MNIST test and the MNIST-5k test split, fetched through
/// the asset store.
final class ShippedModelTests: XCTestCase {
    nonisolated(unsafe) static var cached: (train: ImageDataset, test: ImageDataset)?

    func data() throws -> (train: ImageDataset, test: ImageDataset) {
        if let cached = ShippedModelTests.cached { return cached }
        let store = AssetStore()
        do {
            let loaded = (try ImageDataset.fashionAndDigits(.train, store: store),
                          try ImageDataset.fashionAndDigits(.test, store: store))
            ShippedModelTests.cached = loaded
            return loaded
        } catch let error as ExpertError {
            if case .fetchFailed = error {
                print("ShippedModelTests: skipped, the data sets cannot be fetched here: \(error.localizedDescription)")
                throw XCTSkip("data sets unavailable: \(error.localizedDescription)")
            }
            throw error
        }
    }

    /// Reconstruction from the posterior mean beats PCA with as many components, computed here.
    func testAutoencoderBeatsPCAOnHeldOutImages() throws {
        let (train, test) = try data()
        let vae = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        let reconstructed = try vae.decode(try vae.encode(test.images))
        var squared = 0.0
        for i in 0..<test.images.count { let d = Double(reconstructed.scalars[i] - test.images.scalars[i]); squared += d * d }
        let mse = squared / Double(test.images.count)
        let pca = try XCTUnwrap(PrincipalComponents(fitting: train.images, components: vae.latentDimension))
        let pcaMSE = pca.reconstructionError(test.images)
        print(String(format: "autoencoder test MSE %.5f, PCA-%d %.5f", mse, vae.latentDimension, pcaMSE))
        XCTAssertLessThan(mse, pcaMSE)
        // PCA itself must be a sane baseline: far better than predicting the mean image.
        var meanOnly = 0.0
        for r in 0..<test.count { for j in 0..<784 { let d = Double(test.images.scalars[r * 784 + j]) - pca.mean[j]; meanOnly += d * d } }
        XCTAssertLessThan(pcaMSE, 0.3 * meanOnly / Double(test.images.count))
    }

    func testClassifierAccuracyOnBothTestSets() throws {
        let (_, test) = try data()
        let classifier = try EvaluationClassifier.load(ShippedModels.classifier).model
        let predictions = try classifier.predict(test.images)
        let labels = EvaluationClassifier.labels(of: test)
        var correct = [0, 0], total = [0, 0]
        for i in 0..<test.count {
            let d = test.domains[i] == .digit ? 1 : 0
            total[d] += 1
            if predictions[i] == labels[i] { correct[d] += 1 }
        }
        XCTAssertEqual(total, [10_000, 500])
        let fashion = Double(correct[0]) / Double(total[0]), digits = Double(correct[1]) / Double(total[1])
        print(String(format: "classifier accuracy: fashion %.4f, digits %.4f", fashion, digits))
        XCTAssertGreaterThanOrEqual(fashion, 0.90)
        XCTAssertGreaterThanOrEqual(digits, 0.97)
    }

    /// Decoded prior samples look like the data to the classifier: confident,
    /// and far closer in FID-F than noise images with the data's pixel statistics
    /// (measured: 0.64 and 28, against noise at about 140).
    func testPriorSamplesAreRecognised() throws {
        let (_, test) = try data()
        let vae = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        let classifier = try EvaluationClassifier.load(ShippedModels.classifier).model
        var generator = SeededGenerator(seed: 11)
        let samples = try vae.decode(generator.normalTensor([2000, vae.latentDimension]))
        let (probabilities, features) = try classifier.evaluate(samples)
        var confidence = 0.0
        for r in 0..<2000 { confidence += Double((0..<20).map { probabilities.scalars[r * 20 + $0] }.max()!) }
        confidence /= 2000
        // Noise with each pixel's test mean and standard deviation.
        var mean = [Float](repeating: 0, count: 784), deviation = [Float](repeating: 0, count: 784)
        for r in 0..<test.count { for j in 0..<784 { mean[j] += test.images.scalars[r * 784 + j] / Float(test.count) } }
        for r in 0..<test.count { for j in 0..<784 { let d = test.images.scalars[r * 784 + j] - mean[j]; deviation[j] += d * d / Float(test.count) } }
        var noise = generator.normalTensor([2000, 1, 28, 28])
        for r in 0..<2000 { for j in 0..<784 { noise.scalars[r * 784 + j] = max(-1, min(1, mean[j] + deviation[j].squareRoot() * noise.scalars[r * 784 + j])) } }
        let testFeatures = try classifier.evaluate(test.images).features
        let sampleFID = FrechetDistance.distance(features, testFeatures)
        let noiseFID = FrechetDistance.distance(try classifier.evaluate(noise).features, testFeatures)
        print(String(format: "prior samples: confidence %.3f, FID-F %.2f (pixel-statistics noise %.2f)", confidence, sampleFID, noiseFID))
        XCTAssertGreaterThan(confidence, 0.5)
        XCTAssertLessThan(sampleFID, 0.3 * noiseFID)
    }

    func testGrayImageInputs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gray-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = (0..<(2 * 784)).map { UInt8($0 % 256) }
        let u8 = directory.appendingPathComponent("u8.npy").path
        try NPY.write(uint8: bytes, shape: [2, 28, 28], to: URL(fileURLWithPath: u8))
        let (fromBytes, names) = try ImageInput.loadGray([u8])
        XCTAssertEqual(fromBytes.shape, [2, 1, 28, 28])
        XCTAssertEqual(names, ["\(u8)[0]", "\(u8)[1]"])
        XCTAssertEqual(fromBytes.scalars[5], Float(5) / 127.5 - 1, accuracy: 1e-7)
        // The float32 form round-trips.
        let f32 = directory.appendingPathComponent("f.npy").path
        try NPY.write(fromBytes, to: URL(fileURLWithPath: f32))
        XCTAssertEqual(try ImageInput.loadGray([f32]).images, fromBytes)
        // A PNG of the same bytes (gray replicated to RGB) gives the same images.
        let png = directory.appendingPathComponent("a.png")
        try PNGImage.grid(Tensor(shape: [1, 1, 28, 28], scalars: Array(fromBytes.scalars[0..<784])), columns: 1, border: 0)
            .write(to: png)
        let fromPNG = try ImageInput.loadGray([png.path]).images
        for j in 0..<784 { XCTAssertEqual(fromPNG.scalars[j], fromBytes.scalars[j], accuracy: 1e-6) }
        // Errors name the file.
        let wrong = directory.appendingPathComponent("wrong.npy").path
        try NPY.write(Tensor(zeros: [2, 3, 28, 28]), to: URL(fileURLWithPath: wrong))
        XCTAssertThrowsError(try ImageInput.loadGray([wrong])) { XCTAssertTrue("\($0.localizedDescription)".contains(wrong)) }
        let large = directory.appendingPathComponent("large.npy").path
        try NPY.write(Tensor(repeating: 3, shape: [1, 1, 28, 28]), to: URL(fileURLWithPath: large))
        XCTAssertThrowsError(try ImageInput.loadGray([large])) { XCTAssertTrue("\($0.localizedDescription)".contains("[-1, 1]")) }
    }
}
