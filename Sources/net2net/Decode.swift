import ArgumentParser
import Experts
import Flow
import Formats
import Foundation
import Net2Net
import TensorCore

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode representations with a pretrained generator: z → images.",
        discussion: """
        Generators: dcgan-faces — z [N, 100] float32 .npy → [N, 3, 64, 64] float32 images \
        in [-1, 1] (NCHW, .npy output) or a PNG grid (.png output, --columns per row). \
        The weights are fetched and cached on first use (see `net2net assets`).

        autoencoder — our VAE's decoder (models/autoencoder.safetensors, or --checkpoint): \
        z [N, 64] → [N, 1, 28, 28] float32 in [-1, 1], or a PNG grid. With --random, \
        --learned-prior draws z = τ(v), v ~ N(0, I), from the shipped autoencoder's learned \
        prior (models/autoencoder-prior) instead of z ~ N(0, I), which decodes to blurrier, \
        mixed items; --prior DIR takes another (an unconditional τ on the latents).

        biggan — the BigGAN-deep generator of pytorch-pretrained-biggan, with --weights: its model \
        directory (pytorch_model.bin and config.json, e.g. biggan-deep-128 as HuggingFace published \
        it), which net2net does not fetch. --class N (ImageNet class) and --truncation T in (0, 1] \
        (default 0.4); z [N, 128] as given with --input (the package's convention: already \
        truncation × truncated-normal noise), or --random N draws it that way (default: 1 image) → \
        [N, 3, S, S] in [-1, 1] (S = 128, 256 or 512), or a PNG grid.

        Examples:
          net2net decode --expert dcgan-faces --input z.npy --output faces.npy
          net2net decode --expert autoencoder --random 32 --output samples.png
          net2net decode --expert autoencoder --random 32 --learned-prior --output samples.png
          net2net decode --expert dcgan-faces --input z.npy --output faces.png
          net2net decode --expert biggan --weights biggan-deep-128/ --class 207 --truncation 0.4 --random 4 --output dogs.png
        """)

    @Option(help: "The generator: dcgan-faces, biggan or autoencoder.") var expert: String
    @Option(help: "Latents, float32 .npy [N, 100] (dcgan-faces), [N, 64] (autoencoder) or [N, z_dim] (biggan).") var input: String?
    @Option(help: "autoencoder: a checkpoint other than the shipped one.") var checkpoint: String?
    @Option(help: "Instead of --input: draw this many z ~ N(0, I).") var random: Int?
    @Option(help: "Seed for --random.") var seed: UInt64 = 0
    @Flag(help: "autoencoder, --random: draw z from the shipped learned prior (models/autoencoder-prior).") var learnedPrior = false
    @Option(help: "autoencoder, --random: draw z from this learned prior (an unconditional τ checkpoint).") var prior: String?
    @Option(help: "Output file: .npy (images) or .png (a grid).") var output: String
    @Option(help: "Images per row of a PNG grid.") var columns: Int = 8
    @Option(help: "biggan: its model directory (pytorch_model.bin and config.json) or weights file.") var weights: String?
    @Option(name: .customLong("class"), help: "biggan: the ImageNet class of every image.") var classIndex: Int?
    @Option(help: "biggan: truncation in (0, 1] of the noise and the BatchNorm statistics.") var truncation: Double = 0.4
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let description = try ExpertRegistry.description(named: expert, roles: [.imageDecoder, .imageEncoder], role: "generator")
        guard output.hasSuffix(".npy") || output.hasSuffix(".png") else {
            throw ExpertError.badInput("\(output): the output must be a .npy or .png file")
        }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1") }
        if let needed = description.weightsNeeded, weights == nil {
            throw ExpertError.weightsRequired(expert: expert, needed: needed)
        }
        // A decoder whose width its checkpoint decides is loaded first; the others after the input is read.
        var decoder: (any ImageDecoder)? = nil
        func loadDecoder() throws -> any ImageDecoder {
            if let decoder { return decoder }
            let loaded = try ExpertRegistry.imageDecoder(named: expert, loading: ExpertLoading(
                progress: { note($0) }, autoencoderCheckpoint: checkpoint.map(fileURL), weights: weights.map(fileURL)))
            if let biggan = loaded as? BigGANImageDecoder {
                guard let classIndex else { throw ExpertError.badInput("biggan needs --class N (an ImageNet class index)") }
                try biggan.condition(classIndex: classIndex, truncation: truncation)
            }
            decoder = loaded
            return loaded
        }
        if learnedPrior || prior != nil {
            guard expert == ExpertName.autoencoder else {
                throw ValidationError("--learned-prior and --prior are for --expert autoencoder")
            }
            guard input == nil else {
                throw ValidationError("--learned-prior and --prior draw the latents of --random; --input gives them itself")
            }
        }
        let width = try description.dimension ?? loadDecoder().latentDimension
        let priorFlow = try loadLearnedPrior(path: prior, shipped: learnedPrior, latentDimension: width,
                                             ownAutoencoder: checkpoint != nil, autoencoderOption: "--checkpoint")
        let z: Tensor
        let source: String
        // BigGAN draws one image unless told otherwise.
        let random = random ?? (input == nil && expert == ExpertName.biggan ? 1 : nil)
        switch (input, random) {
        case let (path?, nil):
            z = try NPY.readFloat32(fileURL(path))
            source = path
        case let (nil, count?):
            guard count >= 1 else { throw ValidationError("--random must be at least 1") }
            // A generator whose image size its weights decide (BigGAN) is loaded by now.
            let imageValues = description.imageShape?.reduce(1, *)
                ?? (decoder as? BigGANImageDecoder).map { 3 * $0.model.imageSize * $0.model.imageSize } ?? 1
            try SizeLimit.check(count: count, valuesPerItem: imageValues, parameter: "--random")
            if let biggan = try loadDecoder() as? BigGANImageDecoder {
                z = biggan.randomLatents(count: count, seed: seed)
            } else if let priorFlow {
                var generator = SeededGenerator(seed: seed)
                z = priorFlow.sample(condition: nil, count: count, using: &generator)
            } else {
                var generator = SeededGenerator(seed: seed)
                z = generator.normalTensor([count, width])
            }
            source = "--random"
        default:
            throw ValidationError("give either --input z.npy or --random N")
        }
        guard z.rank == 2, z.shape[1] == width else {
            throw ExpertError.badInput("\(source): z must be [N, \(width)] for \(expert), got \(z.shape)")
        }
        let images = try loadDecoder().decode(z)
        if output.hasSuffix(".png") {
            guard images.shape[0] > 0 else { throw ExpertError.badInput("\(source): no latents, nothing to draw") }
            try PNGImage.grid(images, columns: columns).write(to: fileURL(output))
        } else {
            try NPY.write(images, to: fileURL(output))
        }
        note("wrote \(images.shape) → \(output)")
    }
}
