import Experts
import Foundation

/// The names of the experts, as the command line and `experiment.json` spell them.
public enum ExpertName {
    public static let minilm = "minilm"
    public static let mpnet = "mpnet"
    public static let label = "label"
    public static let efficientNetLite0 = "efficientnet-lite0"
    public static let resnet50 = "resnet50"
    public static let dcganFaces = "dcgan-faces"
    public static let biggan = "biggan"
    public static let autoencoder = "autoencoder"
    /// The HED edge detector: an image → image expert (edge maps), not a Φ or Λ.
    public static let hed = "hed"
}

/// Where experts come from when they are loaded: the asset store their
/// weights are fetched into, where progress goes, our autoencoder's
/// checkpoint (nil: the shipped `models/autoencoder.safetensors`), and the
/// weights file of an expert that has no asset (`ExpertDescription.weightsNeeded`).
public struct ExpertLoading {
    public var store: AssetStore
    public var progress: (String) -> Void
    public var autoencoderCheckpoint: URL?
    public var weights: URL?

    public init(store: AssetStore = AssetStore(), progress: @escaping (String) -> Void = { _ in },
                autoencoderCheckpoint: URL? = nil, weights: URL? = nil) {
        self.store = store
        self.progress = progress
        self.autoencoderCheckpoint = autoencoderCheckpoint
        self.weights = weights
    }

    /// The weights file for the expert `description`; missing is `ExpertError.weightsRequired`.
    func weights(for description: ExpertDescription) throws -> URL {
        guard let weights else {
            throw ExpertError.weightsRequired(expert: description.name, needed: description.weightsNeeded ?? "a weights file")
        }
        return weights
    }

    /// Progress lines of the expert `name`, prefixed with its name.
    func progress(of name: String) -> (String) -> Void {
        { [progress] in progress("\(name): \($0)") }
    }
}

/// Every expert by name: what it is (`ExpertDescription`, known without
/// loading it) and how to load it. Adding an expert is one adapter file
/// (a `ConditionEncoder`, `ImageDecoder` or `ImageEncoder`) and one entry here.
public enum ExpertRegistry {
    /// A loaded expert, by role.
    public enum Loaded {
        case conditionEncoder(any ConditionEncoder)
        case imageDecoder(any ImageDecoder)
        case imageEncoder(any ImageEncoder)
    }

    /// One expert: its description and its loader.
    public struct Entry {
        public let description: ExpertDescription
        let load: (ExpertDescription, ExpertLoading) throws -> Loaded
    }

    /// The experts, in the order they are listed.
    public static let entries: [Entry] = [
        Entry(description: ExpertDescription(
            name: ExpertName.minilm, role: .conditionEncoder, inputKind: .text, dimension: TextExpert.dimension,
            assets: ["minilm"], summary: "all-MiniLM-L6-v2 sentence embeddings (mean pooled, unit length)")) { d, loading in
            .conditionEncoder(SentenceConditionEncoder(model: try TextExpert(store: loading.store, progress: loading.progress(of: d.name)),
                                                       description: d, progress: loading.progress))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.mpnet, role: .conditionEncoder, inputKind: .text, dimension: MPNetTextExpert.dimension,
            assets: ["mpnet"], summary: "all-mpnet-base-v2 sentence embeddings (mean pooled, unit length)")) { d, loading in
            .conditionEncoder(SentenceConditionEncoder(model: try MPNetTextExpert(store: loading.store, progress: loading.progress(of: d.name)),
                                                       description: d, progress: loading.progress))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.label, role: .conditionEncoder, inputKind: .classLabel, dimension: LabelExpert.classCount,
            assets: [], summary: "one-hot class labels (10 fashion classes, 10 digits)")) { d, _ in
            .conditionEncoder(LabelConditionEncoder(description: d))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.efficientNetLite0, role: .conditionEncoder, inputKind: .image,
            dimension: EfficientNetLite.featureDimension, assets: ["efficientnet-lite0"],
            summary: "EfficientNet-Lite0 pooled image features (ImageNet-trained)")) { d, loading in
            .conditionEncoder(ImageFeatureConditionEncoder(
                model: try EfficientNetLite(store: loading.store, progress: loading.progress(of: d.name)),
                description: d, progress: loading.progress))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.resnet50, role: .conditionEncoder, inputKind: .image, dimension: nil, assets: [],
            summary: "ResNet-50 pooled image features (torchvision architecture; weights from --weights)",
            weightsNeeded: ResNet50.weightsNeeded)) { d, loading in
            .conditionEncoder(ImageFeatureConditionEncoder(model: try ResNet50(checkpoint: try loading.weights(for: d)),
                                                           description: d, progress: loading.progress))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.dcganFaces, role: .imageDecoder, dimension: FaceGenerator.latentDimension,
            imageShape: [3, FaceGenerator.imageSize, FaceGenerator.imageSize], assets: ["dcgan-faces"],
            summary: "DCGAN face generator, 64×64 RGB")) { d, loading in
            .imageDecoder(FaceImageDecoder(model: try FaceGenerator(store: loading.store, progress: loading.progress(of: d.name)),
                                           description: d))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.biggan, role: .imageDecoder, dimension: nil, assets: [],
            summary: "BigGAN-deep generator (128, 256 or 512 pixels) of pytorch-pretrained-biggan; weights from --weights",
            weightsNeeded: BigGAN.weightsNeeded)) { d, loading in
            .imageDecoder(BigGANImageDecoder(model: try BigGAN(weights: try loading.weights(for: d)), description: d))
        },
        Entry(description: ExpertDescription(
            name: ExpertName.autoencoder, role: .imageEncoder, dimension: nil, imageShape: ConvolutionalVAE.imageShape,
            assets: [], summary: "our convolutional VAE for 28×28 gray images (models/autoencoder.safetensors)")) { d, loading in
            let model = try ConvolutionalVAE.load(loading.autoencoderCheckpoint ?? ShippedModels.autoencoder).model
            return .imageEncoder(AutoencoderImageEncoder(model: model, description: d))
        },
    ]

    /// The names of the experts with one of `roles`, in registry order.
    public static func names(_ roles: Set<ExpertDescription.Role>) -> [String] {
        entries.filter { roles.contains($0.description.role) }.map(\.description.name)
    }

    /// The description of the expert `name` among `roles`; an unknown name is
    /// `ExpertError.unknownExpert`, listing the known ones (`role` says what was looked for).
    public static func description(named name: String, roles: Set<ExpertDescription.Role>,
                                   role: String = "expert") throws -> ExpertDescription {
        try entry(named: name, roles: roles, role: role).description
    }

    /// Loads the expert `name` among `roles`.
    public static func load(_ name: String, roles: Set<ExpertDescription.Role>, role: String = "expert",
                            loading: ExpertLoading = ExpertLoading()) throws -> Loaded {
        let entry = try entry(named: name, roles: roles, role: role)
        return try entry.load(entry.description, loading)
    }

    static func entry(named name: String, roles: Set<ExpertDescription.Role>, role: String) throws -> Entry {
        guard let entry = entries.first(where: { $0.description.name == name && roles.contains($0.description.role) }) else {
            throw ExpertError.unknownExpert(name, role: role, known: names(roles))
        }
        return entry
    }

    /// The condition encoder Φ called `name`.
    public static func conditionEncoder(named name: String, loading: ExpertLoading = ExpertLoading()) throws -> any ConditionEncoder {
        guard case .conditionEncoder(let encoder) = try load(name, roles: [.conditionEncoder], role: "condition encoder",
                                                             loading: loading) else {
            throw ExpertError.unknownExpert(name, role: "condition encoder", known: names([.conditionEncoder]))
        }
        return encoder
    }

    /// The image decoder Λ called `name` (an image encoder's decoder too).
    public static func imageDecoder(named name: String, loading: ExpertLoading = ExpertLoading()) throws -> any ImageDecoder {
        switch try load(name, roles: [.imageDecoder, .imageEncoder], role: "generator", loading: loading) {
        case .imageDecoder(let decoder): return decoder
        case .imageEncoder(let encoder): return encoder
        case .conditionEncoder:
            throw ExpertError.unknownExpert(name, role: "generator", known: names([.imageDecoder, .imageEncoder]))
        }
    }
}

extension ExpertRegistry {
    /// The names of the condition encoders that read `kind`.
    public static func names(reading kind: ExpertInputKind) -> [String] {
        entries.filter { $0.description.role == .conditionEncoder && $0.description.inputKind == kind }.map(\.description.name)
    }
}

extension ExpertRegistry {
    /// The image encoder Θ (with its decoder Λ) called `name`.
    public static func imageEncoder(named name: String, loading: ExpertLoading = ExpertLoading()) throws -> any ImageEncoder {
        guard case .imageEncoder(let encoder) = try load(name, roles: [.imageEncoder], role: "image encoder", loading: loading) else {
            throw ExpertError.unknownExpert(name, role: "image encoder", known: names([.imageEncoder]))
        }
        return encoder
    }
}

extension ExpertRegistry {
    /// The HED edge detector (`ExpertName.hed`), its weights fetched into `loading.store` if needed.
    public static func edgeDetector(loading: ExpertLoading = ExpertLoading()) throws -> HEDEdgeDetector {
        try HEDEdgeDetector(store: loading.store, progress: loading.progress(of: ExpertName.hed))
    }
}
