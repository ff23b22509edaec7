import Experts
import Flow
import Foundation
import Net2Net
import Synchronization

/// The experts and τs the web app serves, loaded once when the server starts.
///
/// Text → image (and the attribute swap on it) uses the shipped τ, or
/// `<models>/text-to-image` when that exists. The other experiments are
/// served when `<models>/<experiment>/` holds a checkpoint trained by
/// `net2net experiment train` (its `experiment.json` names the experts).
///
/// Not thread-safe: every use, reading included, goes through the server's
/// single-worker `ComputeQueue`, which is why it may be handed across tasks.
/// A τ trained on the page replaces its experiment's (`install`).
public final class ModelCatalog: @unchecked Sendable {
    /// Φ = MiniLM, τ, Λ = our autoencoder.
    public private(set) var text: Translator
    /// Attribute swap on the text τ (Θ = our autoencoder, the classifier names the source).
    public private(set) var textSwap: AttributeSwap
    /// Label → image and its class swap, when a label-to-image τ is loaded.
    public private(set) var label: AttributeSwap?
    /// Edges → image, inpainting and translation into the DCGAN, each when its τ is loaded.
    public private(set) var imageQueries: [ExperimentKind: ImageQueryModel]
    /// The evaluation classifier, which names a swapped image's source.
    let classifier: EvaluationClassifier

    /// An experiment whose queries are images (Φ = EfficientNet-Lite0).
    public struct ImageQueryModel {
        public let experts: ExperimentExperts
        public let translator: Translator
    }

    /// The experiments loaded, text → image first; safe to read from any thread.
    public var loadedExperiments: [ExperimentKind] { loaded.withLock { $0 } }
    private let loaded = Mutex<[ExperimentKind]>([])

    private func updateLoaded() {
        let kinds = [.textToImage] + (label == nil ? [] : [.labelToImage])
            + ExperimentKind.allCases.filter { imageQueries[$0] != nil }
        loaded.withLock { $0 = kinds }
    }

    /// Loads the experts and τs; `progress` hears what is being loaded.
    public init(modelsDirectory: URL?, progress: @escaping (String) -> Void = { _ in }) throws {
        let loading = ExpertLoading(progress: progress)
        func checkpoint(_ kind: ExperimentKind) -> URL? {
            guard let directory = modelsDirectory?.appendingPathComponent(kind.rawValue),
                  FileManager.default.fileExists(atPath: directory.path) else { return nil }
            return directory
        }
        let textLocation = try checkpoint(.textToImage) ?? ShippedModels.textToImage
        progress("text → image: τ from \(textLocation.path)")
        text = try Translator.experiment(at: textLocation, loading: loading)
        let autoencoder = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        let classifier = try EvaluationClassifier.load(ShippedModels.classifier).model
        self.classifier = classifier
        textSwap = AttributeSwap(translator: text, autoencoder: autoencoder, classifier: classifier)
        if let location = checkpoint(.labelToImage) {
            progress("label → image: τ from \(location.path)")
            label = AttributeSwap(translator: try Translator.experiment(at: location, loading: loading),
                                  autoencoder: autoencoder, classifier: classifier)
        } else {
            label = nil
        }
        var queries: [ExperimentKind: ImageQueryModel] = [:]
        for kind in ExperimentKind.allCases where kind.queriesAreImages {
            guard let location = checkpoint(kind) else { continue }
            progress("\(kind.rawValue): τ from \(location.path)")
            let manifest = try ExperimentManifest.load(CheckpointDirectory.runDirectory(for: location))
            guard let manifest, manifest.experiment == kind else {
                throw Net2NetError.checkpoint(path: location.path, problem: "is not a \(kind.rawValue) experiment's checkpoint")
            }
            let experts = ExperimentExperts(imageQueries: kind, mask: manifest.maskRegion, progress: progress)
            queries[kind] = ImageQueryModel(experts: experts,
                                            translator: try experts.translator(flow: try FlowCheckpoint.load(location).flow))
        }
        imageQueries = queries
        updateLoaded()
    }

    /// Serves τ = `flow`, trained for `experts.kind`, from now on in place of
    /// that experiment's τ (adding the experiment when it had none).
    public func install(flow: ConditionalFlow, experts: ExperimentExperts) throws {
        let translator = try experts.translator(flow: flow)
        switch experts.kind {
        case .textToImage:
            text = translator
            textSwap = AttributeSwap(translator: translator, autoencoder: experts.autoencoder, classifier: classifier)
        case .labelToImage:
            label = AttributeSwap(translator: translator, autoencoder: experts.autoencoder, classifier: classifier)
        case .edgesToImage, .inpainting, .ganTranslation:
            imageQueries[experts.kind] = ImageQueryModel(experts: experts, translator: translator)
        case .textToBigGAN:
            throw ServerError.badRequest("the server does not serve text-to-biggan (its BigGAN weights are the user's)")
        }
        updateLoaded()
    }
}
