import Foundation
import TensorCore

/// The roles a pretrained or trained network plays in Net2Net (paper §3):
///
///     query x ──Φ──▶ z_Φ ──τ──▶ z_Θ ──Λ──▶ image
///
/// Φ is a `ConditionEncoder`, Λ an `ImageDecoder`; an `ImageEncoder` also
/// has Θ, the map from images to z_Θ that makes the training pairs. The flow τ
/// knows none of them; `Translator` (in Net2Net) joins them.

/// What a condition encoder reads.
public enum ExpertInputKind: String, Sendable, CaseIterable {
    /// Sentences (UTF-8 strings).
    case text
    /// Class labels of the 20-class scheme (`EvaluationClassifier.classNames`).
    case classLabel = "class label"
    /// Images: `[N, C, H, W]` in [-1, 1], or 8-bit RGB read from PNG files.
    case image
}

/// A batch of queries for a condition encoder, one case per input kind.
public enum ExpertInput {
    /// Sentences.
    case text([String])
    /// Class labels 0..<20.
    case labels([Int])
    /// Gray or RGB images `[N, C, H, W]` in [-1, 1], of any size.
    case images(Tensor)
    /// 8-bit RGB images already at the expert's input size (as `ImageInput.load` reads PNG files).
    case pixels(ImageInput.Batch)

    /// The kind of input this is.
    public var kind: ExpertInputKind {
        switch self {
        case .text: return .text
        case .labels: return .classLabel
        case .images, .pixels: return .image
        }
    }

    /// The number of queries N.
    public var count: Int {
        switch self {
        case .text(let sentences): return sentences.count
        case .labels(let labels): return labels.count
        case .images(let images): return images.rank == 0 ? 0 : images.shape[0]
        case .pixels(let batch): return batch.count
        }
    }
}

/// What every expert states about itself, known before it is loaded.
public struct ExpertDescription: Sendable, Equatable {
    /// The role an expert plays.
    public enum Role: String, Sendable {
        /// Φ: queries → z_Φ.
        case conditionEncoder = "condition encoder"
        /// Θ and Λ: images → z_Θ and back (an `ImageEncoder`).
        case imageEncoder = "image encoder"
        /// Λ: z_Θ → images (an `ImageDecoder`).
        case imageDecoder = "image decoder"
    }

    /// The name used on the command line and in `experiment.json`.
    public let name: String
    public let role: Role
    /// Condition encoders: what they read.
    public let inputKind: ExpertInputKind?
    /// The width of its representation (z_Φ or z_Θ); nil when its checkpoint decides.
    public let dimension: Int?
    /// Image decoders: the shape `[C, H, W]` of one image.
    public let imageShape: [Int]?
    /// The assets it reads (`AssetRegistry` names), fetched on first use.
    public let assets: [String]
    /// One line for people: what it is.
    public let summary: String
    /// Experts whose published weights cannot be fetched as an asset: the
    /// file the user must give (`ExpertLoading.weights`) and where such
    /// weights are published; nil for the others.
    public let weightsNeeded: String?

    public init(name: String, role: Role, inputKind: ExpertInputKind? = nil, dimension: Int?, imageShape: [Int]? = nil,
                assets: [String], summary: String, weightsNeeded: String? = nil) {
        self.name = name
        self.role = role
        self.inputKind = inputKind
        self.dimension = dimension
        self.imageShape = imageShape
        self.assets = assets
        self.summary = summary
        self.weightsNeeded = weightsNeeded
    }
}

/// Φ: a frozen network mapping queries to representations z_Φ `[N, conditionDimension]`.
public protocol ConditionEncoder: AnyObject {
    /// What it is and reads; `description.role` is `.conditionEncoder`.
    var expertDescription: ExpertDescription { get }
    /// The width Dc of z_Φ.
    var conditionDimension: Int { get }
    /// Queries per network call (a batch of `encode` is run in parts of this
    /// size); results can differ in the last bits with it, as padding and
    /// matrix shapes change.
    var queriesPerCall: Int { get set }
    /// z_Φ `[N, Dc]` of `input`; an input of another kind than
    /// `expertDescription.inputKind` is an `ExpertError.badInput`.
    func encode(_ input: ExpertInput) throws -> Tensor
}

/// Λ: a frozen network mapping latents z_Θ `[N, latentDimension]` to images.
public protocol ImageDecoder: AnyObject {
    /// What it is; `description.role` is `.imageDecoder`.
    var expertDescription: ExpertDescription { get }
    /// The width D of z_Θ.
    var latentDimension: Int { get }
    /// Images `[N, C, H, W]` in [-1, 1] of latents `[N, D]`.
    func decode(_ latents: Tensor) throws -> Tensor
}

/// Θ with its decoder Λ: images ↔ z_Θ (our autoencoder).
public protocol ImageEncoder: ImageDecoder {
    /// z_Θ `[N, D]` of images `[N, C, H, W]` in [-1, 1]: the posterior mean,
    /// or with a `sampleSeed` a draw from the posterior.
    func encode(_ images: Tensor, sampleSeed: UInt64?) throws -> Tensor
}

extension ConditionEncoder {
    /// Throws unless `input` is of the kind this encoder reads.
    public func checkKind(_ input: ExpertInput) throws {
        guard input.kind == expertDescription.inputKind else {
            throw ExpertError.badInput("\(expertDescription.name) reads \(expertDescription.inputKind?.rawValue ?? "nothing"), not \(input.kind.rawValue)")
        }
    }
}
