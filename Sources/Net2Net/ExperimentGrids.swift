import Datasets
import Experts
import Flow
import Formats
import Foundation
import TensorCore

/// PNG grids of an experiment's samples.
public enum ExperimentGrids {
    /// One row per class (20 rows), `columns` samples each.
    public static func classGrid(flow: ConditionalFlow, experts: ExperimentExperts, columns: Int, seed: UInt64,
                                 to url: URL) throws {
        let (condition, _) = try experts.conditions(labels: Array(0..<ImageClassifier.classCount), seed: seed)
        let z = try Translation.sample(flow: flow, condition: condition, count: columns, seed: seed)
        try PNGImage.grid(try experts.autoencoder.decode(z), columns: columns).write(to: url)
    }

    /// One row per prompt, `columns` samples each.
    public static func promptGrid(flow: ConditionalFlow, experts: ExperimentExperts, prompts: [String], columns: Int,
                                  seed: UInt64, to url: URL) throws {
        let z = try Translation.sample(flow: flow, condition: try experts.embed(prompts), count: columns, seed: seed)
        try PNGImage.grid(try experts.autoencoder.decode(z), columns: columns).write(to: url)
    }

    /// Class swap: for each source image a pair of rows — the originals, then
    /// τ's translation to each image's swap target.
    public static func swapGrid(flow: ConditionalFlow, experts: ExperimentExperts, images: ImageDataset,
                                to url: URL) throws {
        let labels = ImageClassifier.labels(of: images)
        let targets = labels.map(ExperimentEvaluation.swapTarget)
        let z = try experts.autoencoder.encode(images.images)
        let (from, _) = try experts.conditions(labels: labels, seed: 0)
        let (to, _) = try experts.conditions(labels: targets, seed: 0)
        let swapped = try experts.autoencoder.decode(try Translation.translate(flow: flow, target: z, from: from, to: to))
        let all = Tensor(shape: [2 * images.count, 1, 28, 28], scalars: images.images.scalars + swapped.scalars)
        try PNGImage.grid(all, columns: images.count).write(to: url)
    }
}
