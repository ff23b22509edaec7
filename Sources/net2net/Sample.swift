import ArgumentParser
import Experts
import Formats
import Foundation
import Net2Net
import TensorCore

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw z_Θ = τ(v | z_Φ) for each condition (and decode it, for an experiment).",
        discussion: """
        Conditions come from --condition (a .npy [N, Dc] of z_Φ), or for an experiment's \
        checkpoint (one with experiment.json, written by `net2net experiment train`) from \
        --text "…" (text-to-image and text-to-biggan: the prompt is embedded with the checkpoint's text expert), --label NAME \
        (label-to-image: "sneaker", "digit 7", "17"…) or --image FILE.png (EfficientNet-Lite0 \
        features: edges-to-image takes the Sobel edges of the image made gray (mean of R, G, B) \
        and resized to 28×28, inpainting hides the checkpoint's mask in that gray 28×28 image, \
        gan-translation uses the image as is; each is then resized to 224×224). K = --count \
        samples per condition, condition-major; --temperature scales v ~ N(0, T²I).

        A plain flow checkpoint writes the latents [N·K, D] (.npy). An experiment's checkpoint \
        decodes them with the autoencoder: images [N·K, 1, 28, 28] float32 in [-1, 1] (.npy) or \
        a PNG grid with one row per condition (.png); gan-translation decodes with the DCGAN: \
        faces [N·K, 3, 64, 64]; text-to-biggan with BigGAN (the model directory its experiment.json \
        names, or --weights) at the recipe's truncation: [N·K, 3, S, S]. --latents writes z_Θ instead.

        Examples:
          net2net sample --checkpoint runs/g --condition c.npy --count 8 --output samples.npy
          net2net sample --checkpoint models/text-to-image --text "a pair of trainers" --count 16 --output shoes.png
          net2net sample --checkpoint runs/edges-to-image --image sketch.png --count 8 --output shoes.png
          net2net sample --checkpoint runs/text-to-biggan --text "a photo of a goldfish" --count 4 --output fish.png
        """)

    @Option(help: "Checkpoint directory (or its flow.safetensors).") var checkpoint: String
    @Option(help: "Conditions z_Φ, float32 .npy [N, Dc].") var condition: String?
    @Option(help: "A text prompt (text-to-image checkpoints).") var text: String?
    @Option(help: "A class name (\"sneaker\"), a digit (\"7\", \"digit 7\", \"seven\") or a class number 10–19 (label-to-image checkpoints).") var label: String?
    @Option(help: "A PNG query image (edges-to-image, inpainting and gan-translation checkpoints).") var image: String?
    @Option(help: "Samples per condition; one call holds at most \(SizeLimit.maximumValues) float32 values (1 GiB), and a larger count is an error giving the most allowed.") var count: Int = 1
    @Option(help: "Output file: .npy, or .png for an experiment's decoded images.") var output: String
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Scale of the Gaussian noise v.") var temperature: Float = 1
    @Option(help: "The noise v itself, float32 .npy [N·K, D] (row r goes with condition r / K), instead of --seed and --temperature: the same v gives the same samples as another implementation of the same τ.") var noise: String?
    @Option(help: "An autoencoder checkpoint other than the shipped one.") var autoencoder: String?
    @Option(help: "text-to-biggan: BigGAN's model directory, instead of the one its experiment.json names.") var weights: String?
    @Flag(help: "Write the latents z_Θ even for an experiment's checkpoint.") var latents = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let location = fileURL(checkpoint)
        let flow = try FlowCheckpoint.load(location).flow
        let manifest = try ExperimentManifest.load(CheckpointDirectory.runDirectory(for: location))
        let given = [condition != nil, text != nil, label != nil, image != nil].filter { $0 }.count
        guard given <= 1 else { throw ValidationError("give one of --condition, --text, --label and --image") }
        guard output.hasSuffix(".npy") || (output.hasSuffix(".png") && manifest != nil && !latents) else {
            throw Net2NetError.unsupported(manifest != nil && !latents ? "\(output): the output must be .npy or .png"
                                                                       : "\(output): latents are written as .npy (PNG needs an experiment's checkpoint)")
        }
        let loading = ExpertLoading(progress: { note($0) }, autoencoderCheckpoint: autoencoder.map(fileURL), weights: weights.map(fileURL))
        // Φ: the query, or z_Φ given as a file.
        var c: Tensor? = nil
        var query: ExpertInput? = nil
        if let condition {
            c = try PairDataset.loadMatrix(fileURL(condition))
        } else if let text {
            guard let manifest, try Sample.inputKind(of: manifest) == .text else {
                let readers = ExpertRegistry.names(reading: .text)
                throw Net2NetError.unsupported("\(checkpoint): --text needs a text-to-image checkpoint (its experiment.json names the \(readers.joined(separator: " or ")) expert); encode the prompt with `net2net encode --expert \(readers[0])` and pass --condition")
            }
            query = .text([text])
        } else if let label {
            guard let manifest, try Sample.inputKind(of: manifest) == .classLabel else {
                throw Net2NetError.unsupported("\(checkpoint): --label needs a label-to-image checkpoint")
            }
            query = .labels([try LabelExpert.label(named: label)])
        } else if let image {
            guard let manifest, manifest.experiment.queriesAreImages else {
                throw Net2NetError.unsupported("\(checkpoint): --image needs an edges-to-image, inpainting or gan-translation checkpoint"
                                               + (manifest.map { ", this one is \($0.experiment.rawValue)" } ?? ""))
            }
            guard image.lowercased().hasSuffix(".png") else {
                throw Net2NetError.data(path: image, problem: "--image takes a PNG file")
            }
            // The experiment's query operator (edge map, mask) comes before Φ.
            c = try ExperimentExperts(imageQueries: manifest.experiment, mask: manifest.maskRegion,
                                      edges: manifest.edgeOperator(checkpoint: checkpoint), progress: { note($0) })
                .condition(imageFile: image)
        }
        let encoder = try query.map { _ in try ExpertRegistry.conditionEncoder(named: manifest!.conditionExpert, loading: loading) }
        // Λ: an experiment's checkpoint decodes with its target expert.
        var decoder: (any ImageDecoder)? = nil
        if let manifest, !latents {
            let loaded = try manifest.imageDecoder(loading: loading)
            guard loaded.latentDimension == manifest.latentDimension, loaded.latentDimension == flow.configuration.dimension else {
                throw Net2NetError.checkpoint(path: checkpoint, problem: "τ maps to a \(flow.configuration.dimension)-d latent but the \(manifest.targetExpert)'s is \(loaded.latentDimension)-d")
            }
            decoder = loaded
        }
        let translator = try Translator(conditionEncoder: encoder, flow: flow, decoder: decoder)
        if let query { c = try translator.condition(query) }
        if let decoder {
            let pixels = decoder.expertDescription.imageShape?.reduce(1, *) ?? 1
            try SizeLimit.check(count: count, valuesPerItem: (c?.shape[0] ?? 1) * pixels, parameter: "--count")
        }
        let samples: Tensor
        if let noise {
            do {
                samples = try translator.sample(condition: c, count: count, noise: try PairDataset.loadMatrix(fileURL(noise)))
            } catch Net2NetError.parameter(name: "noise", let problem) {
                throw Net2NetError.data(path: noise, problem: problem)
            }
        } else {
            samples = try translator.sample(condition: c, count: count, temperature: temperature, seed: seed)
        }
        guard samples.isFinite else {
            throw Net2NetError.checkpoint(path: checkpoint, problem: "sampling gave non-finite values (temperature \(temperature)); try a lower --temperature")
        }
        guard decoder != nil else {
            try NPY.write(samples, to: fileURL(output))
            note("wrote \(samples.shape[0]) samples of dimension \(samples.shape[1]) → \(output)")
            return
        }
        try write(try translator.decode(samples))
    }

    /// What the condition expert of an experiment's checkpoint reads.
    static func inputKind(of manifest: ExperimentManifest) throws -> ExpertInputKind? {
        try ExpertRegistry.description(named: manifest.conditionExpert, roles: [.conditionEncoder]).inputKind
    }

    func write(_ images: Tensor) throws {
        if output.hasSuffix(".png") {
            try PNGImage.grid(images, columns: min(count, 16)).write(to: fileURL(output))
        } else {
            try NPY.write(images, to: fileURL(output))
        }
        note("wrote \(images.shape) → \(output)")
    }
}
