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
        --text "…" (text-to-image: the prompt is embedded with MiniLM), --label NAME \
        (label-to-image: "sneaker", "digit 7", "17"…) or --image FILE.png (EfficientNet-Lite0 \
        features: edges-to-image takes the Sobel edges of the image made gray (mean of R, G, B) \
        and resized to 28×28, inpainting hides the checkpoint's mask in that gray 28×28 image, \
        gan-translation uses the image as is; each is then resized to 224×224). K = --count \
        samples per condition, condition-major; --temperature scales v ~ N(0, T²I).

        A plain flow checkpoint writes the latents [N·K, D] (.npy). An experiment's checkpoint \
        decodes them with the autoencoder: images [N·K, 1, 28, 28] float32 in [-1, 1] (.npy) or \
        a PNG grid with one row per condition (.png); gan-translation decodes with the DCGAN: \
        faces [N·K, 3, 64, 64]. --latents writes z_Θ instead.

        Examples:
          net2net sample --checkpoint runs/g --condition c.npy --count 8 --output samples.npy
          net2net sample --checkpoint models/text-to-image --text "a pair of trainers" --count 16 --output shoes.png
          net2net sample --checkpoint runs/edges-to-image --image sketch.png --count 8 --output shoes.png
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
    @Option(help: "An autoencoder checkpoint other than the shipped one.") var autoencoder: String?
    @Flag(help: "Write the latents z_Θ even for an experiment's checkpoint.") var latents = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let location = fileURL(checkpoint)
        let flow = try FlowCheckpoint.load(location).flow
        let manifest = try ExperimentManifest.load(CheckpointDirectory.runDirectory(for: location))
        let given = [condition != nil, text != nil, label != nil, image != nil].filter { $0 }.count
        guard given <= 1 else { throw ValidationError("give one of --condition, --text, --label and --image") }
        let decode = manifest != nil && !latents
        guard output.hasSuffix(".npy") || (output.hasSuffix(".png") && decode) else {
            throw Net2NetError.unsupported(decode ? "\(output): the output must be .npy or .png"
                                                  : "\(output): latents are written as .npy (PNG needs an experiment's checkpoint)")
        }
        var c: Tensor? = nil
        if let condition {
            c = try PairDataset.loadMatrix(fileURL(condition))
        } else if let text {
            guard manifest?.conditionExpert == "minilm" else {
                throw Net2NetError.unsupported("\(checkpoint): --text needs a text-to-image checkpoint (its experiment.json names the minilm expert); encode the prompt with `net2net encode --expert minilm` and pass --condition")
            }
            c = try TextExpert(store: AssetStore(), progress: { note("minilm: \($0)") }).embed([text])
        } else if let label {
            guard manifest?.conditionExpert == "label" else {
                throw Net2NetError.unsupported("\(checkpoint): --label needs a label-to-image checkpoint")
            }
            c = try LabelExpert.encode([try LabelExpert.label(named: label)])
        } else if let image {
            guard let manifest, manifest.conditionExpert == "efficientnet-lite0" else {
                throw Net2NetError.unsupported("\(checkpoint): --image needs an edges-to-image, inpainting or gan-translation checkpoint"
                                               + (manifest.map { ", this one is \($0.experiment.rawValue)" } ?? ""))
            }
            guard image.lowercased().hasSuffix(".png") else {
                throw Net2NetError.data(path: image, problem: "--image takes a PNG file")
            }
            c = try ExperimentExperts(imageQueries: manifest.experiment, mask: manifest.maskRegion, progress: { note($0) })
                .condition(imageFile: image)
        }
        if decode {
            let pixels = manifest?.targetExpert == "dcgan-faces" ? 3 * 64 * 64 : ConvolutionalVAE.pixelCount
            try SizeLimit.check(count: count, valuesPerItem: (c?.shape[0] ?? 1) * pixels, parameter: "--count")
        }
        let samples = try Translation.sample(flow: flow, condition: c, count: count, temperature: temperature, seed: seed)
        guard samples.isFinite else {
            throw Net2NetError.checkpoint(path: checkpoint, problem: "sampling gave non-finite values (temperature \(temperature)); try a lower --temperature")
        }
        guard decode, let manifest else {
            try NPY.write(samples, to: fileURL(output))
            note("wrote \(samples.shape[0]) samples of dimension \(samples.shape[1]) → \(output)")
            return
        }
        if manifest.targetExpert == "dcgan-faces" {
            let faces = try FaceGenerator(store: AssetStore(), progress: { note("dcgan-faces: \($0)") }).generate(samples)
            try write(faces)
            return
        }
        let vae = try ConvolutionalVAE.load(autoencoder.map(fileURL) ?? ShippedModels.autoencoder).model
        guard vae.latentDimension == manifest.latentDimension, vae.latentDimension == flow.configuration.dimension else {
            throw Net2NetError.checkpoint(path: checkpoint, problem: "τ maps to a \(flow.configuration.dimension)-d latent but the autoencoder's is \(vae.latentDimension)-d")
        }
        try write(try vae.decode(samples))
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
