import Experts
import Foundation
import TensorCore

/// The image side of the experiments whose query expert is EfficientNet-Lite0:
/// the query domains (edge maps, masked images, DCGAN faces), their features,
/// and GAN translation's sampled pairs.
extension ExperimentExperts {
    /// The query domain of gray images `[N, 1, H, W]`: edge maps for
    /// edges-to-image (Sobel, or HED's as images in [-1, 1], per `edges`), the
    /// images with `mask` hidden for inpainting, the images themselves otherwise.
    public func queryImages(_ images: Tensor) throws -> Tensor {
        switch kind {
        case .edgesToImage:
            switch edges {
            case .sobel: return ImageOperators.sobelEdges(images)
            case .hed: return try edgeDetector().edgeImages(images)
            }
        case .inpainting: return ImageOperators.masked(images, region: mask)
        default: return images
        }
    }

    /// z_Φ `[N, 1280]`: EfficientNet-Lite0 features of gray `[N, 1, h, w]` or RGB
    /// `[N, 3, h, w]` images in [-1, 1], seen as their 8-bit PNGs resized to 224
    /// (`ImageOperators.efficientNetInput`). No query operator is applied here.
    public func imageFeatures(_ images: Tensor) throws -> Tensor {
        try conditionEncoder().encode(.images(images))
    }

    /// GAN translation's pairs: z_Θ = z ~ N(0, I) `[count, 100]` drawn from
    /// `seed`, z_Φ = EfficientNet features of the face DCGAN(z).
    public func facePairs(count: Int, seed: UInt64) throws -> (pairs: PairDataset, faces: Tensor) {
        var generator = SeededGenerator(seed: seed)
        let z = generator.normalTensor([count, try imageDecoder().latentDimension])
        let faces = try decode(z)
        progress("encoding \(count) faces with EfficientNet-Lite0")
        return (try PairDataset(condition: try imageFeatures(faces), target: z), faces)
    }

    /// The decoded images of latents z_Θ: the autoencoder's `[N, 1, 28, 28]`,
    /// or the DCGAN's faces `[N, 3, 64, 64]` for GAN translation.
    public func decode(_ z: Tensor) throws -> Tensor {
        try imageDecoder().decode(z)
    }

    /// z_Φ `[1, 1280]` of a PNG query file for this experiment: edges-to-image
    /// takes the edges (`edges`) of the image resized to 28×28 and made gray (mean
    /// of R, G, B); inpainting masks that gray 28×28 image; GAN translation
    /// uses the image as is (resized to 224×224).
    public func condition(imageFile path: String) throws -> Tensor {
        guard path.lowercased().hasSuffix(".png") else {
            throw Net2NetError.data(path: path, problem: "a query image must be a PNG file")
        }
        switch kind {
        case .edgesToImage, .inpainting:
            return try imageFeatures(queryImages(try ImageInput.loadGray([path]).images))
        case .ganTranslation:
            return try conditionEncoder().encode(.pixels(try ImageInput.load([path])))
        case .labelToImage, .textToImage:
            throw Net2NetError.unsupported("image queries need an edges-to-image, inpainting or gan-translation experiment, this one is \(kind.rawValue)")
        }
    }
}
