import ArgumentParser
import Experts
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
        z [N, 64] → [N, 1, 28, 28] float32 in [-1, 1], or a PNG grid.

        Examples:
          net2net decode --expert dcgan-faces --input z.npy --output faces.npy
          net2net decode --expert autoencoder --random 32 --output samples.png
          net2net decode --expert dcgan-faces --input z.npy --output faces.png
        """)

    @Option(help: "The generator: dcgan-faces or autoencoder.") var expert: String
    @Option(help: "Latents, float32 .npy [N, 100] (dcgan-faces) or [N, 64] (autoencoder).") var input: String?
    @Option(help: "autoencoder: a checkpoint other than the shipped one.") var checkpoint: String?
    @Option(help: "Instead of --input: draw this many z ~ N(0, I).") var random: Int?
    @Option(help: "Seed for --random.") var seed: UInt64 = 0
    @Option(help: "Output file: .npy (images) or .png (a grid).") var output: String
    @Option(help: "Images per row of a PNG grid.") var columns: Int = 8
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let description = try ExpertRegistry.description(named: expert, roles: [.imageDecoder, .imageEncoder], role: "generator")
        guard output.hasSuffix(".npy") || output.hasSuffix(".png") else {
            throw ExpertError.badInput("\(output): the output must be a .npy or .png file")
        }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1") }
        // A decoder whose width its checkpoint decides is loaded first; the others after the input is read.
        var decoder: (any ImageDecoder)? = nil
        func loadDecoder() throws -> any ImageDecoder {
            if let decoder { return decoder }
            let loaded = try ExpertRegistry.imageDecoder(named: expert, loading: ExpertLoading(
                progress: { note($0) }, autoencoderCheckpoint: checkpoint.map(fileURL)))
            decoder = loaded
            return loaded
        }
        let width = try description.dimension ?? loadDecoder().latentDimension
        let z: Tensor
        let source: String
        switch (input, random) {
        case let (path?, nil):
            z = try NPY.readFloat32(fileURL(path))
            source = path
        case let (nil, count?):
            guard count >= 1 else { throw ValidationError("--random must be at least 1") }
            try SizeLimit.check(count: count, valuesPerItem: description.imageShape?.reduce(1, *) ?? 1, parameter: "--random")
            var generator = SeededGenerator(seed: seed)
            z = generator.normalTensor([count, width])
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
