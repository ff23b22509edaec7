import Formats
import Foundation
import TensorCore

/// The known-answer check: τ trained on a conditional Gaussian
/// (`ConditionalGaussian`, z_Φ 6-d → z_Θ 8-d) whose conditional entropy and
/// moments are known in closed form, then compared with them: held-out NLL
/// against the entropy, sample means against A·c + b and sample covariances
/// against L·Lᵀ for four test conditions.
public enum KnownAnswerCheck {
    /// Writes the data (`condition.npy`, `target.npy`, `test_condition.npy`,
    /// `test_target.npy`), the checkpoint (`checkpoint/`) and `summary.txt` into
    /// `directory`, training for `steps` steps from `seed`. `onEvent` sees every
    /// training event with the analytic entropy per dimension. Returns the summary.
    public static func run(directory: URL, steps: Int, seed: UInt64, progress: (String) -> Void = { _ in },
                           onEvent: (TrainingEvent, _ entropyPerDimension: Double) -> Void = { _, _ in }) throws -> String {
        try AtomicFile.createDirectory(directory)
        let problem = ConditionalGaussian(dimension: 8, conditionDimension: 6, seed: seed)
        let train = problem.pairs(100_000, seed: seed &+ 1)
        let test = problem.pairs(4_000, seed: seed &+ 2)
        for (name, tensor) in [("condition.npy", train.condition), ("target.npy", train.target),
                               ("test_condition.npy", test.condition), ("test_target.npy", test.target)] {
            try NPY.write(tensor, to: directory.appendingPathComponent(name))
        }
        progress("[1/3] data: 100000 training and 4000 test pairs, z_Φ 6-d → z_Θ 8-d, in \(directory.path)")

        var settings = TrainingConfiguration()
        settings.hiddenDimension = 64
        settings.blockCount = 8
        settings.embeddingDimension = 32
        settings.conditioningHiddenDimension = 64
        settings.batchSize = 256
        settings.baseLearningRate = 3e-6
        settings.steps = steps
        settings.seed = seed
        settings.validationFraction = 0.05
        settings.learningRateDecay = .cosine
        settings.warmupSteps = 100
        settings.logEvery = max(1, settings.steps / 15)
        settings.validateEvery = max(1, settings.steps / 3)
        settings.checkpointEvery = settings.steps
        let checkpoint = directory.appendingPathComponent("checkpoint")
        try? FileManager.default.removeItem(at: checkpoint)
        let data = try PairDataset(condition: train.condition, target: train.target)
        let trainer = try Trainer(configuration: settings, data: data, outputDirectory: checkpoint)
        progress("[2/3] training τ (\(trainer.flow.parameterCount) parameters, \(settings.steps) steps, batch \(settings.batchSize))")
        try trainer.run(onEvent: { event in onEvent(event, problem.entropyPerDimension) })

        progress("[3/3] checking against the known answer")
        let flow = trainer.flow
        let heldOut = Evaluation.natsPerDimension(flow: flow, target: test.target, condition: test.condition)
        let entropy = problem.entropyPerDimension
        // Conditional moments of samples for a few test conditions.
        let probes = test.condition.rows(0..<4)
        let samples = try Translation.sample(flow: flow, condition: probes, count: 4000, seed: seed &+ 3)
        let truth = problem.mean(probes)
        let D = problem.dimension
        var meanError: Float = 0, covarianceError: Float = 0
        let covariance = matmul(problem.choleskyFactor, problem.choleskyFactor, transposeB: true)
        for p in 0..<4 {
            let block = samples.rows((p * 4000)..<((p + 1) * 4000))
            var mean = [Float](repeating: 0, count: D)
            for r in 0..<4000 { for j in 0..<D { mean[j] += block[r, j] / 4000 } }
            for j in 0..<D { meanError = max(meanError, abs(mean[j] - truth[p, j])) }
            for i in 0..<D {
                for j in 0..<D {
                    var s: Float = 0
                    for r in 0..<4000 { s += (block[r, i] - mean[i]) * (block[r, j] - mean[j]) }
                    covarianceError = max(covarianceError, abs(s / 3999 - covariance[i, j]))
                }
            }
        }
        let summary = String(format: """
            held-out NLL      %.4f nats/dim (n = %d)
            analytic entropy  %.4f nats/dim
            gap               %.4f nats/dim
            samples: max |mean − (A·c + b)| = %.3f, max |cov − L·Lᵀ| = %.3f (4 conditions × 4000 samples)
            """, heldOut.natsPerDimension, heldOut.count, entropy, heldOut.natsPerDimension - entropy,
            meanError, covarianceError)
        try AtomicFile.write(Data((summary + "\n").utf8), to: directory.appendingPathComponent("summary.txt"))
        return summary
    }
}
