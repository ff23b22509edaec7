import Foundation
import TensorCore

/// Which data set an image comes from.
public enum ImageDomain: String, Sendable, CaseIterable {
    /// Fashion-MNIST: clothing, classes 0…9 (see `ImageDataset.fashionClassNames`).
    case fashion
    /// MNIST digits, classes 0…9 (the digit value).
    case digit
}

/// The train or test part of a data set.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train, test
}

/// Labelled gray images for training and evaluating our own autoencoder.
///
/// Images are `[N, 1, 28, 28]` float32 in [-1, 1], x = u8 / 127.5 − 1, the
/// library's image convention. Every image keeps its `domain` and its
/// `classLabel` within that domain (the Fashion-MNIST class, or the digit
/// value). For a classifier over a union of both domains, `jointLabels`
/// numbers 11 classes: 0…9 are the Fashion-MNIST classes and 10 stands for
/// "a digit" (whatever its value; `classLabels` still has it).
public struct ImageDataset: Sendable {
    /// `[N, channels, height, width]`, values in [-1, 1].
    public let images: Tensor
    /// The class within the image's domain, 0…9.
    public let classLabels: [Int]
    /// The domain of each image.
    public let domains: [ImageDomain]

    /// The number of classes of `jointLabels`: 10 fashion classes and "digit".
    public static let jointClassCount = 11
    /// The joint label of every digit image.
    public static let digitJointLabel = 10
    /// Fashion-MNIST class names, by label.
    public static let fashionClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Images, with their class labels and domains (one each per image).
    public init(images: Tensor, classLabels: [Int], domains: [ImageDomain]) {
        precondition(images.rank == 4, "images must be [N, C, H, W], got \(images.shape)")
        precondition(classLabels.count == images.shape[0] && domains.count == images.shape[0],
                     "one class label and one domain per image")
        self.images = images
        self.classLabels = classLabels
        self.domains = domains
    }

    /// Images of one domain from unsigned bytes `[N, height, width]` (one channel).
    public init(pixels: [UInt8], labels: [UInt8], height: Int, width: Int, domain: ImageDomain) {
        precondition(pixels.count == labels.count * height * width, "pixels must hold height × width bytes per label")
        let scalars = ImageDataset.unitRange(pixels)
        self.init(images: Tensor(shape: [labels.count, 1, height, width], scalars: scalars),
                  classLabels: labels.map(Int.init),
                  domains: Array(repeating: domain, count: labels.count))
    }

    /// x = u8 / 127.5 − 1 for every byte, through a 256-entry table and raw
    /// pointers: a closure per pixel (`map`) takes seconds for Fashion-MNIST
    /// in a debug build.
    static func unitRange(_ pixels: [UInt8]) -> [Float] {
        let table = (0..<256).map { Float($0) / 127.5 - 1 }
        return [Float](unsafeUninitializedCapacity: pixels.count) { buffer, initialized in
            table.withUnsafeBufferPointer { table in
                pixels.withUnsafeBufferPointer { source in
                    guard let from = source.baseAddress, let to = buffer.baseAddress, let lookup = table.baseAddress else { return }
                    for i in 0..<source.count { (to + i).initialize(to: lookup[Int(from[i])]) }
                }
            }
            initialized = pixels.count
        }
    }

    public var count: Int { classLabels.count }
    /// `[channels, height, width]` of one image.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }
    /// Values per image.
    public var imageSize: Int { imageShape.reduce(1, *) }

    /// The 11-class labels: the fashion class, or `digitJointLabel` for a digit.
    public var jointLabels: [Int] {
        zip(classLabels, domains).map { label, domain in domain == .fashion ? label : ImageDataset.digitJointLabel }
    }

    /// How many images carry each class label (indices 0…max label).
    public func classHistogram() -> [Int] {
        var counts = [Int](repeating: 0, count: (classLabels.max() ?? -1) + 1)
        for label in classLabels { counts[label] += 1 }
        return counts
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageDataset {
        let size = imageSize
        var scalars = [Float](repeating: 0, count: indices.count * size)
        images.withUnsafeBufferPointer { source in
            scalars.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
                    UnsafeMutableRawPointer(target.baseAddress! + row * size)
                        .copyMemory(from: source.baseAddress! + index * size, byteCount: size * MemoryLayout<Float>.size)
                }
            }
        }
        return ImageDataset(images: Tensor(shape: [indices.count] + imageShape, scalars: scalars),
                            classLabels: indices.map { classLabels[$0] },
                            domains: indices.map { domains[$0] })
    }

    /// The images of `parts`, one after another (all parts must have the same image shape).
    public static func union(_ parts: [ImageDataset]) -> ImageDataset {
        precondition(!parts.isEmpty, "union of no data sets")
        let shape = parts[0].imageShape
        precondition(parts.allSatisfy { $0.imageShape == shape }, "union of data sets with different image shapes")
        var scalars: [Float] = []
        scalars.reserveCapacity(parts.reduce(0) { $0 + $1.images.count })
        for part in parts { scalars.append(contentsOf: part.images.scalars) }
        return ImageDataset(images: Tensor(shape: [parts.reduce(0) { $0 + $1.count }] + shape, scalars: scalars),
                            classLabels: parts.flatMap(\.classLabels),
                            domains: parts.flatMap(\.domains))
    }
}
