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
        let translator = try experts.translator(flow: flow)
        let (condition, _) = try experts.conditions(labels: Array(0..<EvaluationClassifier.classCount), seed: seed)
        let z = try translator.sample(condition: condition, count: columns, seed: seed)
        try PNGImage.grid(try translator.decode(z), columns: columns).write(to: url)
    }

    /// One row per prompt, `columns` samples each.
    public static func promptGrid(flow: ConditionalFlow, experts: ExperimentExperts, prompts: [String], columns: Int,
                                  seed: UInt64, to url: URL) throws {
        let images = try experts.translator(flow: flow).images(.text(prompts), count: columns, seed: seed)
        try PNGImage.grid(images, columns: columns).write(to: url)
    }

    /// Attribute or class swap: the originals in the top row, below them each
    /// re-expressed by v = τ⁻¹(z | source), z* = τ(v | target) (one condition row per image).
    public static func swapGrid(flow: ConditionalFlow, experts: ExperimentExperts, images: ImageDataset,
                                source: Tensor, target: Tensor, to url: URL) throws {
        let translator = try experts.translator(flow: flow)
        let z = try experts.autoencoder.encode(images.images)
        let swapped = try translator.decode(try translator.translate(z, from: source, to: target))
        let all = Tensor(shape: [2 * images.count, 1, 28, 28], scalars: images.images.scalars + swapped.scalars)
        try PNGImage.grid(all, columns: images.count).write(to: url)
    }

    /// Edges-to-image and inpainting: one row per image of `images` — the
    /// image, its query (edge map or masked image), then `columns` samples.
    public static func queryGrid(flow: ConditionalFlow, experts: ExperimentExperts, images: ImageDataset, columns: Int,
                                 seed: UInt64, to url: URL) throws {
        let queries = try experts.queryImages(images.images)
        let samples = try experts.translator(flow: flow).images(.images(queries), count: columns, seed: seed)
        let P = 28 * 28
        var scalars: [Float] = []
        for n in 0..<images.count {
            scalars += images.images.scalars[(n * P)..<((n + 1) * P)]
            scalars += queries.scalars[(n * P)..<((n + 1) * P)]
            scalars += samples.scalars[(n * columns * P)..<((n + 1) * columns * P)]
        }
        let all = Tensor(shape: [images.count * (columns + 2), 1, 28, 28], scalars: scalars)
        try PNGImage.grid(all, columns: columns + 2).write(to: url)
    }

    /// GAN translation: for each of `faces` fresh DCGAN faces three rows — the
    /// face, its edge map and its masked version, each followed by `columns`
    /// faces τ samples for that query.
    public static func faceGrid(flow: ConditionalFlow, experts: ExperimentExperts, faces count: Int, columns: Int,
                                seed: UInt64, to url: URL) throws {
        let translator = try experts.translator(flow: flow)
        var generator = SeededGenerator(seed: seed)
        let faces = try translator.decode(generator.normalTensor([count, FaceGenerator.latentDimension]))
        let edges = ImageOperators.sobelEdges(ImageOperators.gray(faces))
        let P = 64 * 64
        let edgesRGB = Tensor(shape: faces.shape, scalars: (0..<count).flatMap { n in
            Array(repeating: Array(edges.scalars[(n * P)..<((n + 1) * P)]), count: 3).flatMap { $0 }
        })
        let queries = [faces, edgesRGB, ImageOperators.masked(faces, region: experts.mask)]
        let outputs = try queries.map { query in
            try translator.images(.images(query), count: columns, seed: seed &+ 1)
        }
        let F = 3 * P
        var scalars: [Float] = []
        for n in 0..<count {
            for (query, output) in zip(queries, outputs) {
                scalars += query.scalars[(n * F)..<((n + 1) * F)]
                scalars += output.scalars[(n * columns * F)..<((n + 1) * columns * F)]
            }
        }
        let all = Tensor(shape: [3 * count * (columns + 1), 3, 64, 64], scalars: scalars)
        try PNGImage.grid(all, columns: columns + 1).write(to: url)
    }
}
