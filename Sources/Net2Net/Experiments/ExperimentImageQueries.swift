import Experts
import Formats
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

    /// GAN translation's query of kind `kind` for DCGAN faces `[N, 3, 64, 64]`:
    /// the faces, their Sobel edge maps (of the gray faces, `[N, 1, 64, 64]`),
    /// or the faces with `mask` hidden.
    public func faceQuery(_ faces: Tensor, _ kind: FaceQuery) -> Tensor {
        switch kind {
        case .face: return faces
        case .edges: return ImageOperators.sobelEdges(ImageOperators.gray(faces))
        case .masked: return ImageOperators.masked(faces, region: mask)
        }
    }

    /// A DCGAN face from z ~ N(0, I) drawn from `seed`, `[1, 3, 64, 64]`, and
    /// its query of kind `kind` with z_Φ (GAN translation).
    public func face(seed: UInt64, query kind: FaceQuery) throws -> (face: Tensor, query: Tensor, condition: Tensor) {
        var generator = SeededGenerator(seed: seed)
        let face = try decode(generator.normalTensor([1, try imageDecoder().latentDimension]))
        let query = faceQuery(face, kind)
        return (face, query, try imageFeatures(query))
    }

    /// The decoded images of latents z_Θ: the autoencoder's `[N, 1, 28, 28]`,
    /// or the DCGAN's faces `[N, 3, 64, 64]` for GAN translation.
    public func decode(_ z: Tensor) throws -> Tensor {
        try imageDecoder().decode(z)
    }

    /// z_Φ `[1, 1280]` of a PNG query file for this experiment (see `condition(image:name:isQuery:)`).
    public func condition(imageFile path: String) throws -> Tensor {
        guard path.lowercased().hasSuffix(".png") else {
            throw Net2NetError.data(path: path, problem: "a query image must be a PNG file")
        }
        return try condition(image: try ImageInput.readPNG(path), name: path).condition
    }

    /// z_Φ `[1, 1280]` of a decoded image for this experiment, and the query
    /// Φ saw: edges-to-image takes the edges (`edges`: Sobel or HED) of the
    /// image resized to 28×28 and made gray (mean of R, G, B); inpainting masks that gray
    /// 28×28 image; both give the query `[1, 1, 28, 28]`. With `isQuery` the
    /// image is already in the query domain (a drawn edge map, an image
    /// masked by hand) and only made gray and resized. GAN translation uses
    /// the image as is (resized to 224×224) and gives the query `[1, 3, 64, 64]`.
    public func condition(image: PNGImage, name: String, isQuery: Bool = false) throws -> (condition: Tensor, query: Tensor) {
        switch kind {
        case .edgesToImage, .inpainting:
            var batch = ImageInput.Batch(side: 28)
            ImageInput.append(image, name: name, to: &batch)
            let gray = ImageInput.gray(batch)
            let query = isQuery ? gray : try queryImages(gray)
            return (try imageFeatures(query), query)
        case .ganTranslation:
            var batch = ImageInput.Batch(side: EfficientNetLite.imageSize)
            ImageInput.append(image, name: name, to: &batch)
            var face = ImageInput.Batch(side: 64)
            ImageInput.append(image, name: name, to: &face)
            var planes = [Float](repeating: 0, count: 3 * 64 * 64)
            for c in 0..<3 {
                for p in 0..<(64 * 64) { planes[c * 64 * 64 + p] = Float(face.pixels[3 * p + c]) / 127.5 - 1 }
            }
            let query = Tensor(shape: [1, 3, 64, 64], scalars: planes)
            return (try conditionEncoder().encode(.pixels(batch)), query)
        case .labelToImage, .textToImage, .textToBigGAN:
            throw Net2NetError.unsupported("image queries need an edges-to-image, inpainting or gan-translation experiment, this one is \(kind.rawValue)")
        }
    }
}

/// The queries GAN translation is evaluated and served with.
public enum FaceQuery: String, CaseIterable, Sendable {
    /// The face itself.
    case face
    /// Its Sobel edge map (sketch → face).
    case edges
    /// The face with the experiment's mask hidden.
    case masked
}
