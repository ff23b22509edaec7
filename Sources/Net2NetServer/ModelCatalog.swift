import Experts
import Flow
import Foundation
import Net2Net

/// The experts and τs the web app serves, loaded once when the server starts.
///
/// Text → image (and the attribute swap on it) uses the shipped τ, or
/// `<models>/text-to-image` when that exists. The other experiments are
/// served when `<models>/<experiment>/` holds a checkpoint trained by
/// `net2net experiment train` (its `experiment.json` names the experts).
///
/// Not thread-safe: every use goes through the server's single-worker
/// `ComputeQueue`, which is why it may be handed across tasks.
public final class ModelCatalog: @unchecked Sendable {
    /// Φ = MiniLM, τ, Λ = our autoencoder.
    public let text: Translator
    /// Attribute swap on the text τ (Θ = our autoencoder, the classifier names the source).
    public let textSwap: AttributeSwap
    /// Label → image and its class swap, when a label-to-image τ is loaded.
    public let label: AttributeSwap?
    /// Edges → image, inpainting and translation into the DCGAN, each when its τ is loaded.
    public let imageQueries: [ExperimentKind: ImageQueryModel]

    /// An experiment whose queries are images (Φ = EfficientNet-Lite0).
    public struct ImageQueryModel {
        public let experts: ExperimentExperts
        public let translator: Translator
    }

    /// The experiments loaded, text → image first.
    public var experiments: [ExperimentKind] {
        [.textToImage] + (label == nil ? [] : [.labelToImage])
            + ExperimentKind.allCases.filter { imageQueries[$0] != nil }
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
    }
}
