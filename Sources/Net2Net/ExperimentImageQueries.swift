import Experts
import Foundation
import TensorCore

/// The image side of the experiments whose query expert is EfficientNet-Lite0:
/// the query domains (edge maps, masked images, DCGAN faces), their features,
/// and GAN translation's sampled pairs.
extension ExperimentExperts {
    /// Images per EfficientNet call (progress is reported between calls).
    static let imageBatch = 16

    /// EfficientNet-Lite0 (loaded once, on first use).
    public func imageExpert() throws -> EfficientNetLite {
        if let efficientNet { return efficientNet }
        let loaded = try EfficientNetLite(store: store, progress: { [progress] in progress("efficientnet-lite0: \($0)") })
        efficientNet = loaded
        return loaded
    }

    /// The DCGAN face generator Λ of GAN translation (loaded once, on first use).
    public func faceGenerator() throws -> FaceGenerator {
        if let generator { return generator }
        let loaded = try FaceGenerator(store: store, progress: { [progress] in progress("dcgan-faces: \($0)") })
        generator = loaded
        return loaded
    }

    /// The query domain of gray images `[N, 1, H, W]`: Sobel edge maps for
    /// edges-to-image, the images with `mask` hidden for inpainting, the
    /// images themselves otherwise.
    public func queryImages(_ images: Tensor) -> Tensor {
        switch kind {
        case .edgesToImage: return ImageOperators.sobelEdges(images)
        case .inpainting: return ImageOperators.masked(images, region: mask)
        default: return images
        }
    }

    /// z_Φ `[N, 1280]`: EfficientNet-Lite0 features of gray `[N, 1, h, w]` or RGB
    /// `[N, 3, h, w]` images in [-1, 1], seen as their 8-bit PNGs resized to 224
    /// (`ImageOperators.efficientNetInput`). No query operator is applied here.
    public func imageFeatures(_ images: Tensor) throws -> Tensor {
        let model = try imageExpert()
        let N = images.shape[0], size = images.count / max(N, 1)
        var rows: [Float] = []
        rows.reserveCapacity(N * EfficientNetLite.featureDimension)
        var start = 0
        let began = Date()
        while start < N {
            let count = min(ExperimentExperts.imageBatch, N - start)
            let batch = Tensor(shape: [count] + Array(images.shape.dropFirst()),
                               scalars: Array(images.scalars[(start * size)..<((start + count) * size)]))
            rows += try model.features(ImageOperators.efficientNetInput(batch)).scalars
            start += count
            if N >= 1000 && ((start / ExperimentExperts.imageBatch) % 40 == 0 || start == N) {
                progress(String(format: "efficientnet-lite0: %d/%d images (%.0f images/s)", start, N,
                                Double(start) / max(Date().timeIntervalSince(began), 1e-3)))
            }
        }
        return Tensor(shape: [N, EfficientNetLite.featureDimension], scalars: rows)
    }

    /// GAN translation's pairs: z_Θ = z ~ N(0, I) `[count, 100]` drawn from
    /// `seed`, z_Φ = EfficientNet features of the face DCGAN(z).
    public func facePairs(count: Int, seed: UInt64) throws -> (pairs: PairDataset, faces: Tensor) {
        var generator = SeededGenerator(seed: seed)
        let z = generator.normalTensor([count, FaceGenerator.latentDimension])
        let faces = try generateFaces(z)
        progress("encoding \(count) faces with EfficientNet-Lite0")
        return (try PairDataset(condition: try imageFeatures(faces), target: z), faces)
    }

    /// DCGAN faces `[N, 3, 64, 64]` for latents `[N, 100]`, in batches.
    public func generateFaces(_ z: Tensor) throws -> Tensor {
        let model = try faceGenerator()
        let N = z.shape[0], D = FaceGenerator.latentDimension
        var scalars: [Float] = []
        var start = 0
        while start < N {
            let count = min(64, N - start)
            scalars += try model.generate(Tensor(shape: [count, D], scalars: Array(z.scalars[(start * D)..<((start + count) * D)]))).scalars
            start += count
        }
        let side = FaceGenerator.imageSize
        return Tensor(shape: [N, 3, side, side], scalars: scalars)
    }

    /// The decoded images of latents z_Θ: the autoencoder's `[N, 1, 28, 28]`,
    /// or the DCGAN's faces `[N, 3, 64, 64]` for GAN translation.
    public func decode(_ z: Tensor) throws -> Tensor {
        kind == .ganTranslation ? try generateFaces(z) : try autoencoder.decode(z)
    }

    /// z_Φ `[1, 1280]` of a PNG query file for this experiment: edges-to-image
    /// takes the Sobel edges of the image resized to 28×28 and made gray (mean
    /// of R, G, B); inpainting masks that gray 28×28 image; GAN translation
    /// uses the image as is (resized to 224×224).
    public func condition(imageFile path: String) throws -> Tensor {
        guard path.lowercased().hasSuffix(".png") else {
            throw Net2NetError.data(path: path, problem: "--image takes a PNG file")
        }
        switch kind {
        case .edgesToImage, .inpainting:
            return try imageFeatures(queryImages(try ImageInput.loadGray([path]).images))
        case .ganTranslation:
            return try imageExpert().features(ImageInput.modelInput(try ImageInput.load([path])))
        case .labelToImage, .textToImage:
            throw Net2NetError.unsupported("--image needs an edges-to-image, inpainting or gan-translation checkpoint, this one is \(kind.rawValue)")
        }
    }
}
