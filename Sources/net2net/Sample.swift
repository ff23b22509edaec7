import ArgumentParser
import Formats
import Foundation
import Net2Net
import TensorCore

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw z_Θ = τ(v | z_Φ) for each condition.",
        discussion: """
        Writes [N·K, D] float32 (.npy), K = --count samples for each of the N condition rows, \
        condition-major. --temperature scales v ~ N(0, T²I).

        Example:
          net2net sample --checkpoint runs/g --condition c.npy --count 8 \\
                         --output samples.npy
        """)

    @Option(help: "Checkpoint directory (or its flow.safetensors).") var checkpoint: String
    @Option(help: "Conditions z_Φ, float32 .npy [N, Dc].") var condition: String?
    @Option(help: "A text prompt (needs the text expert).") var text: String?
    @Option(help: "Samples per condition.") var count: Int = 1
    @Option(help: "Output file (.npy).") var output: String
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Scale of the Gaussian noise v.") var temperature: Float = 1
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        if text != nil {
            throw Net2NetError.unsupported("--text needs the MiniLM text expert, which this build does not include yet; encode the prompt to a .npy and pass --condition")
        }
        guard output.hasSuffix(".npy") else {
            throw Net2NetError.unsupported("\(output): only .npy output is supported (image output needs a decoder expert)")
        }
        let flow = try FlowCheckpoint.load(fileURL(checkpoint)).flow
        var c: Tensor? = nil
        if let condition { c = try PairDataset.loadMatrix(fileURL(condition)) }
        let samples = try Translation.sample(flow: flow, condition: c, count: count, temperature: temperature, seed: seed)
        try NPY.write(samples, to: fileURL(output))
        note("wrote \(samples.shape[0]) samples of dimension \(samples.shape[1]) → \(output)")
    }
}
