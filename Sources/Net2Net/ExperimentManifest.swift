import Formats
import Foundation

/// `experiment.json` beside an experiment's flow checkpoint: which experts
/// τ was trained between, so that `sample --text` / `--label` can encode the
/// query and decode the result. Written atomically.
public struct ExperimentManifest: Codable, Sendable, Equatable {
    public static let file = "experiment.json"

    public var experiment: ExperimentKind
    /// "label" or "minilm".
    public var conditionExpert: String
    /// Always "autoencoder": z_Θ is our VAE's latent.
    public var targetExpert: String
    public var latentDimension: Int
    /// Text experiments: the attribute thresholds the captions were made with.
    public var attributes: ImageAttributes?

    public init(experiment: ExperimentKind, latentDimension: Int, attributes: ImageAttributes?) {
        self.experiment = experiment
        conditionExpert = experiment.conditionExpert
        targetExpert = "autoencoder"
        self.latentDimension = latentDimension
        self.attributes = attributes
    }

    enum CodingKeys: String, CodingKey {
        case experiment, conditionExpert = "condition_expert", targetExpert = "target_expert"
        case latentDimension = "latent_dim", attributes
    }

    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
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
