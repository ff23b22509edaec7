import ArgumentParser
import Formats
import Foundation
import Net2Net
import TensorCore

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-express targets under new conditions: v = τ⁻¹(z | c), z* = τ(v | c*).",
        discussion: """
        Keeps what the condition does not explain (the residual v) and swaps the condition. \
        --to has one row per target, or one row used for all.

        Example:
          net2net translate --checkpoint runs/g --target z.npy \\
                            --from c.npy --to c2.npy --output z2.npy
        """)

    @Option(help: "Checkpoint directory.") var checkpoint: String
    @Option(help: "Targets z_Θ, float32 .npy [N, D].") var target: String
    @Option(help: "Their conditions, .npy [N, Dc].") var from: String
    @Option(help: "New conditions, .npy [N, Dc] or [1, Dc].") var to: String
    @Option(help: "Output file (.npy).") var output: String
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let flow = try FlowCheckpoint.load(fileURL(checkpoint)).flow
        let z = try PairDataset.loadMatrix(fileURL(target))
        let source = try PairDataset.loadMatrix(fileURL(from))
        let destination = try PairDataset.loadMatrix(fileURL(to))
        let translated = try Translation.translate(flow: flow, target: z, from: source, to: destination)
        try NPY.write(translated, to: fileURL(output))
        note("translated \(translated.shape[0]) rows → \(output)")
    }
}
