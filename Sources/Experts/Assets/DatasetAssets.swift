import Datasets
import Foundation

/// The data sets, loaded from their assets (fetched and verified on first use).
extension ImageDataset {
    /// Fashion-MNIST from the `fashion-mnist` asset: 60 000 training or 10 000 test images.
    public static func fashionMNIST(_ split: DatasetSplit, store: AssetStore,
                                    progress: (String) -> Void = { _ in }) throws -> ImageDataset {
        try fashionMNIST(split, in: store.directory(for: AssetDescription.fashionMNIST.name, progress: progress))
    }

    /// MNIST-5k from the `mnist-5k` asset, with the fixed stratified split
    /// (`mnist5kSplit`): 4 500 training or 500 test images.
    public static func mnist5k(_ split: DatasetSplit, store: AssetStore,
                               progress: (String) -> Void = { _ in }) throws -> ImageDataset {
        let directory = try store.directory(for: AssetDescription.mnist5k.name, progress: progress)
        return try mnist5k(split, file: directory.appendingPathComponent(AssetDescription.mnist5k.files[0].name))
    }

    /// Fashion-MNIST and MNIST-5k of `split`, one after the other (fashion
    /// first): 64 500 training or 10 500 test images, for the autoencoder.
    /// `jointLabels` tells the 10 fashion classes and "digit" apart.
    public static func fashionAndDigits(_ split: DatasetSplit, store: AssetStore,
                                        progress: (String) -> Void = { _ in }) throws -> ImageDataset {
        union([try fashionMNIST(split, store: store, progress: progress),
               try mnist5k(split, store: store, progress: progress)])
    }
}
