import ArgumentParser
import Experts
import Formats
import Foundation
import TensorCore

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode representations with a pretrained generator: z → images.",
        discussion: """
        Generators: dcgan-faces — z [N, 100] float32 .npy → [N, 3, 64, 64] float32 images \
        in [-1, 1] (NCHW, .npy output) or a PNG grid (.png output, --columns per row). \
        The weights are fetched and cached on first use (see `net2net assets`).

        Examples:
          net2net decode --expert dcgan-faces --input z.npy --output faces.npy
          net2net decode --expert dcgan-faces --input z.npy --output faces.png
        """)

    @Option(help: "The generator: dcgan-faces.") var expert: String
    @Option(help: "Latents, float32 .npy [N, 100].") var input: String?
    @Option(help: "Instead of --input: draw this many z ~ N(0, I).") var random: Int?
    @Option(help: "Seed for --random.") var seed: UInt64 = 0
    @Option(help: "Output file: .npy (images) or .png (a grid).") var output: String
    @Option(help: "Images per row of a PNG grid.") var columns: Int = 8
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard expert == "dcgan-faces" else {
            throw ExpertError.badInput("unknown generator '\(expert)' for decode; available: dcgan-faces")
        }
        guard output.hasSuffix(".npy") || output.hasSuffix(".png") else {
            throw ExpertError.badInput("\(output): the output must be a .npy or .png file")
        }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1") }
        let z: Tensor
        let source: String
        switch (input, random) {
        case let (path?, nil):
            z = try NPY.readFloat32(fileURL(path))
            source = path
        case let (nil, count?):
            guard count >= 1 else { throw ValidationError("--random must be at least 1") }
            var generator = SeededGenerator(seed: seed)
            z = generator.normalTensor([count, FaceGenerator.latentDimension])
            source = "--random"
        default:
            throw ValidationError("give either --input z.npy or --random N")
        }
        guard z.rank == 2, z.shape[1] == FaceGenerator.latentDimension else {
            throw ExpertError.badInput("\(source): z must be [N, \(FaceGenerator.latentDimension)] for dcgan-faces, got \(z.shape)")
        }
        let generator = try FaceGenerator(store: AssetStore(), progress: { note("dcgan-faces: \($0)") })
        let images = try generator.generate(z)
        if output.hasSuffix(".png") {
            guard images.shape[0] > 0 else { throw ExpertError.badInput("\(source): no latents, nothing to draw") }
            try PNGImage.grid(images, columns: columns).write(to: fileURL(output))
        } else {
            try NPY.write(images, to: fileURL(output))
        }
        note("wrote \(images.shape) → \(output)")
    }
}
