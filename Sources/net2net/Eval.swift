import ArgumentParser
import Formats
import Foundation
import Net2Net
import TensorCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Held-out negative log-likelihood of targets given conditions.",
        discussion: """
        Prints the mean NLL per sample and in nats per dimension (with the ½·log 2π constant). \
        --json prints exactly one object: {"nll": …, "nats_per_dim": …, "n": …}.

        Example:
          net2net eval --checkpoint runs/g --condition c_test.npy \\
                       --target z_test.npy --json
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
        guard result.nll.isFinite else {
            throw Net2NetError.data(path: target, problem: "its negative log-likelihood under \(checkpoint) is \(result.nll), not a number; the rows lie where the flow's density overflows (check the data's scale against the training data's)")
        }
        if json {
            try printJSON(["nll": result.nll, "nats_per_dim": result.natsPerDimension, "n": result.count])
        } else {
            print(String(format: "n = %d  NLL = %.4f nats  (%.4f nats/dim)", result.count, result.nll, result.natsPerDimension))
        }
    }
}
