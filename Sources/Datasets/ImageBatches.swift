import TensorCore

/// One minibatch of an `ImageDataset`.
public struct ImageBatch: Sendable {
    /// `[B, channels, height, width]` in [-1, 1].
    public let images: Tensor
    /// Class within the domain, per image.
    public let classLabels: [Int]
    /// 11-class labels (see `ImageDataset.jointLabels`).
    public let jointLabels: [Int]
    public let domains: [ImageDomain]
    /// The rows of the data set this batch holds, in batch order.
    public let indices: [Int]

    public var count: Int { indices.count }
}

extension ImageDataset {
    /// The order in which epoch `epoch` visits the images: a permutation of
    /// `0..<count` that depends only on `(seed, epoch)`, derived as the flow
    /// Trainer derives its epochs, so a resumed run sees the same batches.
    public func epochOrder(seed: UInt64, epoch: Int) -> [Int] {
        precondition(epoch >= 0, "epochs count from 0")
        var generator = SeededGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
        return generator.permutation(count)
    }

    /// The number of batches of `size` in one epoch.
    public func batchCount(size: Int, dropLast: Bool = false) -> Int {
        precondition(size > 0, "batch size must be positive")
        return dropLast ? count / size : (count + size - 1) / size
    }

    /// Batch `number` (from 0) of epoch `epoch`: rows
    /// `epochOrder(seed, epoch)[number·size ..< (number+1)·size]`; the last
    /// batch of an epoch may be smaller. Computes the epoch's order each
    /// call; iterate `batches(…)` to walk a whole epoch.
    public func batch(_ number: Int, size: Int, seed: UInt64, epoch: Int) -> ImageBatch {
        let order = epochOrder(seed: seed, epoch: epoch)
        return batch(at: Array(order[number * size..<min(order.count, (number + 1) * size)]))
    }

    /// The batches of epoch `epoch`, lazily: every image once (or, with
    /// `dropLast`, all but the `count % size` left over), in seeded order.
    public func batches(size: Int, seed: UInt64, epoch: Int,
                        dropLast: Bool = false) -> LazyMapSequence<Range<Int>, ImageBatch> {
        let order = epochOrder(seed: seed, epoch: epoch)
        return (0..<batchCount(size: size, dropLast: dropLast)).lazy.map { number in
            self.batch(at: Array(order[number * size..<min(order.count, (number + 1) * size)]))
        }
    }

    /// The images at `indices`, as a batch.
    public func batch(at indices: [Int]) -> ImageBatch {
        let part = subset(indices)
        return ImageBatch(images: part.images, classLabels: part.classLabels, jointLabels: part.jointLabels,
                          domains: part.domains, indices: indices)
    }
}
