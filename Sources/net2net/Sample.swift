import ArgumentParser
import Formats
import Foundation
import Net2Net

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw z_Θ = τ(v | z_Φ) for each condition.",
        discussion: """
        Writes [N·K, D] float32 (.npy), K = --count samples for each of the N condition rows, \
        condition-major. --temperature scales v ~ N(0, T²I).

        Example:
          net2net sample --checkpoint runs/gauss --condition c.npy --count 8 --output samples.npy
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
        var c: TensorCore.Tensor? = nil
        if let condition { c = try PairDataset.loadMatrix(fileURL(condition)) }
        let samples = try Translation.sample(flow: flow, condition: c, count: count, temperature: temperature, seed: seed)
        try NPY.write(samples, to: fileURL(output))
        note("wrote \(samples.shape[0]) samples of dimension \(samples.shape[1]) → \(output)")
    }
}

import TensorCore

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-express targets under new conditions: v = τ⁻¹(z | c), z* = τ(v | c*).",
        discussion: """
        Keeps what the condition does not explain (the residual v) and swaps the condition. \
        --to has one row per target, or one row used for all.

        Example:
          net2net translate --checkpoint runs/gauss --target z.npy --from c.npy --to c2.npy --output z2.npy
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

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Held-out negative log-likelihood of targets given conditions.",
        discussion: """
        Prints the mean NLL per sample and in nats per dimension (with the ½·log 2π constant). \
        --json prints exactly one object: {"nll": …, "nats_per_dim": …, "n": …}.

        Example:
          net2net eval --checkpoint runs/gauss --condition c_test.npy --target z_test.npy --json
        """)

    @Option(help: "Checkpoint directory.") var checkpoint: String
    @Option(help: "Conditions, .npy [N, Dc].") var condition: String?
    @Option(help: "Targets, .npy [N, D].") var target: String
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let flow = try FlowCheckpoint.load(fileURL(checkpoint)).flow
        let z = try PairDataset.loadMatrix(fileURL(target))
        guard z.shape[1] == flow.configuration.dimension else {
            throw Net2NetError.data(path: target, problem: "has \(z.shape[1]) features per row; the checkpoint models \(flow.configuration.dimension)")
        }
        var c: Tensor? = nil
        if flow.configuration.isConditional {
            guard let condition else { throw Net2NetError.configuration("this flow is conditional: give --condition") }
            let pairs = try PairDataset(condition: try PairDataset.loadMatrix(fileURL(condition)), target: z,
                                        conditionName: condition, targetName: target)
            guard pairs.conditionDimension == flow.configuration.conditionDimension else {
                throw Net2NetError.data(path: condition, problem: "has \(pairs.conditionDimension) features per row; the checkpoint expects \(flow.configuration.conditionDimension)")
            }
            c = pairs.condition
        }
        let result = Evaluation.natsPerDimension(flow: flow, target: z, condition: c)
        if json {
            try printJSON(["nll": result.nll, "nats_per_dim": result.natsPerDimension, "n": result.count])
        } else {
            print(String(format: "n = %d  NLL = %.4f nats  (%.4f nats/dim)", result.count, result.nll, result.natsPerDimension))
        }
    }
}
