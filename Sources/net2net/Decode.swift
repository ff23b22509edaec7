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
        in [-1, 1] (NCHW). The weights are fetched and cached on first use \
        (see `net2net assets`).

        Example:
          net2net decode --expert dcgan-faces --input z.npy --output faces.npy
        """)

    @Option(help: "The generator: dcgan-faces.") var expert: String
    @Option(help: "Latents, float32 .npy [N, 100].") var input: String
    @Option(help: "Output .npy file.") var output: String
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard expert == "dcgan-faces" else {
            throw ExpertError.badInput("unknown generator '\(expert)' for decode; available: dcgan-faces")
        }
        guard output.hasSuffix(".npy") else {
            throw ExpertError.badInput("\(output): only .npy output is supported for now (PNG grids come with the image I/O)")
        }
        let z = try NPY.readFloat32(fileURL(input))
        guard z.rank == 2, z.shape[1] == FaceGenerator.latentDimension else {
            throw ExpertError.badInput("\(input): z must be [N, \(FaceGenerator.latentDimension)] for dcgan-faces, got \(z.shape)")
        }
        let generator = try FaceGenerator(store: AssetStore(), progress: { note("dcgan-faces: \($0)") })
        let images = try generator.generate(z)
        try NPY.write(images, to: fileURL(output))
        note("wrote \(images.shape) → \(output)")
    }
}
