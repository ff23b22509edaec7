import Experts
import Formats
import Foundation

/// `experiment.json` beside an experiment's flow checkpoint: which experts
/// τ was trained between, so that `sample --text` / `--label` / `--image` can
/// encode the query and decode the result. Written atomically.
public struct ExperimentManifest: Codable, Sendable, Equatable {
    public static let file = "experiment.json"

    public var experiment: ExperimentKind
    /// "label", "minilm", "mpnet" or "efficientnet-lite0".
    public var conditionExpert: String
    /// "autoencoder" (z_Θ is our VAE's latent) or "dcgan-faces" (the DCGAN's latent).
    public var targetExpert: String
    public var latentDimension: Int
    /// Text experiments: the attribute thresholds the captions were made with.
    public var attributes: ImageAttributes?
    /// Inpainting: the masked region's name (`MaskRegion.names`) and the seed of random boxes.
    public var mask: String?
    public var maskSeed: UInt64?
    /// Edges-to-image: the edge operator's name (`EdgeOperator`; Sobel when absent).
    public var edges: String?
    /// Text → image: the caption vocabulary τ was trained on (`templates` when absent).
    public var captions: CaptionGenerator.Vocabulary?
    /// Text → BigGAN: the generator's model directory as trained with (absolute;
    /// `sample --weights` overrides it), the truncation Λ decodes at, and the
    /// ImageNet classes the captions named.
    public var weights: String?
    public var truncation: Double?
    public var classes: [Int]?

    public init(experiment: ExperimentKind, latentDimension: Int, attributes: ImageAttributes?,
                mask: String? = nil, maskSeed: UInt64? = nil, edges: String? = nil, conditionExpert: String? = nil) {
        self.experiment = experiment
        self.conditionExpert = conditionExpert ?? experiment.conditionExpert
        targetExpert = experiment.targetExpert
        self.latentDimension = latentDimension
        self.attributes = attributes
        self.mask = mask
        self.maskSeed = maskSeed
        self.edges = edges
    }

    /// The manifest of a checkpoint trained with `recipe`.
    public init(recipe: ExperimentRecipe, latentDimension: Int, attributes: ImageAttributes?) {
        let inpainting = recipe.kind == .inpainting
        self.init(experiment: recipe.kind, latentDimension: latentDimension, attributes: attributes,
                  mask: inpainting ? recipe.mask : nil, maskSeed: inpainting ? recipe.flow.seed : nil,
                  edges: recipe.kind == .edgesToImage ? recipe.edges.rawValue : nil, conditionExpert: recipe.conditionExpert)
        if recipe.kind == .textToImage { captions = recipe.captions }
        if recipe.kind == .textToBigGAN {
            weights = recipe.biggan.weights.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            truncation = recipe.biggan.truncation
            classes = recipe.biggan.classes
        }
    }

    /// Inpainting's masked region (lower half when the manifest names none).
    public var maskRegion: MaskRegion {
        MaskRegion.named(mask ?? "lower-half", seed: maskSeed ?? 0) ?? .lowerHalf
    }

    /// Edges-to-image's edge operator; an unknown name is an error naming `checkpoint`.
    public func edgeOperator(checkpoint: String) throws -> EdgeOperator {
        guard let edges else { return .sobel }
        guard let known = EdgeOperator(rawValue: edges) else {
            throw Net2NetError.checkpoint(path: checkpoint,
                                          problem: "unknown edge operator '\(edges)'; known: \(EdgeOperator.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return known
    }

    /// Λ of this experiment: its target expert, or for text → BigGAN the BigGAN
    /// of `loading.weights` (nil: the manifest's `weights`) decoding [z, e] at the
    /// manifest's truncation; no weights at all is `ExpertError.weightsRequired`.
    public func imageDecoder(loading: ExpertLoading) throws -> any ImageDecoder {
        guard experiment == .textToBigGAN else { return try ExpertRegistry.imageDecoder(named: targetExpert, loading: loading) }
        var loading = loading
        loading.weights = loading.weights ?? weights.map { URL(fileURLWithPath: $0) }
        return try ExperimentExperts.bigganLatentDecoder(loading: loading, truncation: truncation ?? BigGANRecipe().truncation)
    }

    enum CodingKeys: String, CodingKey {
        case experiment, conditionExpert = "condition_expert", targetExpert = "target_expert"
        case latentDimension = "latent_dim", attributes, mask, maskSeed = "mask_seed", edges, captions, weights, truncation, classes
    }

    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.createDirectory(directory)
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(ExperimentManifest.file))
    }

    /// The manifest in `directory`, or nil if it has none (a plain flow checkpoint).
    public static func load(_ directory: URL) throws -> ExperimentManifest? {
        let url = directory.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(ExperimentManifest.self, from: Data(contentsOf: url))
        } catch {
            throw Net2NetError.checkpoint(path: url.path, problem: "unreadable experiment manifest: \(error)")
        }
    }
}
