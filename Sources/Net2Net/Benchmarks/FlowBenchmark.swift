import Flow
import Foundation
import Layers
import TensorCore

/// Throughput of training steps and sampling, and the machine's sgemm peak.
///
/// Case names match `bench/flow_baseline.py` (the PyTorch CPU baseline of
/// the same architecture and optimiser) so the two can be joined.
public enum FlowBenchmark {
    public struct Case: Sendable {
        public let name: String
        public let configuration: FlowConfiguration
        public let batch: Int
        public let training: Bool
    }

    public struct Result: Sendable, Codable {
        public let name: String
        public let samplesPerSecond: Double
        public let secondsPerIteration: Double
        public let iterations: Int
        public let parameters: Int
        /// GEMM FLOP/s achieved, from the layer shapes (multiply-add = 2).
        public let gflops: Double
    }

    /// The reference configuration (D = 128, Dc = 384 → E = 128, H = 1024,
    /// depth 2, 20 blocks) and the small CPU one (D = 64, E = 64, H = 256, 12 blocks).
    public static let reference = FlowConfiguration(dimension: 128, conditionDimension: 384, embeddingDimension: 128,
                                                    hiddenDimension: 1024, hiddenDepth: 2, blockCount: 20)
    public static let small = FlowConfiguration(dimension: 64, conditionDimension: 384, embeddingDimension: 64,
                                                hiddenDimension: 256, hiddenDepth: 2, blockCount: 12)

    public static let cases: [Case] = [
        Case(name: "train-reference-b16", configuration: reference, batch: 16, training: true),
        Case(name: "train-reference-b64", configuration: reference, batch: 64, training: true),
        Case(name: "sample-reference-b1", configuration: reference, batch: 1, training: false),
        Case(name: "sample-reference-b16", configuration: reference, batch: 16, training: false),
        Case(name: "sample-reference-b64", configuration: reference, batch: 64, training: false),
        Case(name: "train-small-b128", configuration: small, batch: 128, training: true),
        Case(name: "sample-small-b128", configuration: small, batch: 128, training: false),
    ]

    /// Multiply-add FLOPs of one forward (or inverse) pass per sample.
    public static func forwardFlopsPerSample(_ c: FlowConfiguration) -> Double {
        let d1 = c.dimension / 2, d2 = c.dimension - d1, E = c.effectiveEmbeddingDimension, H = c.hiddenDimension
        func half(_ keep: Int, _ change: Int) -> Double {
            let input = (keep + E) * 2 * H
            let hidden = 2 * c.hiddenDepth * H * H
            let output = 2 * H * change
            return 2 * Double(input + hidden + output)
        }
        var total = Double(c.blockCount) * (half(d1, d2) + half(d2, d1))
        if c.isConditional {
            let Hc = c.conditioningHiddenDimension
            let embedder = c.conditionDimension * Hc + c.conditioningDepth * Hc * Hc + Hc * c.embeddingDimension
            total += 2 * Double(embedder)
        }
        return total
    }

    /// Best-of-three GFLOP/s of a square sgemm of side `size`.
    public static func sgemmPeak(size: Int = 2048) -> Double {
        let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size), c = FloatBuffer(count: size * size)
        var g = SeededGenerator(seed: 1)
        for i in 0..<(size * size) { a[i] = g.nextUniform(); b[i] = g.nextUniform() }
        var best = Double.infinity
        for _ in 0..<8 {
            let start = DispatchTime.now().uptimeNanoseconds
            gemm(.none, .none, m: size, n: size, k: size, a: a.pointer, lda: size, b: b.pointer, ldb: size,
                 c: c.pointer, ldc: size)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * pow(Double(size), 3) / best / 1e9
    }

    /// Runs one case: `warmup` untimed iterations, then timed ones until
    /// both `minimumIterations` and `minimumSeconds` are reached.
    public static func run(_ c: Case, warmup: Int = 2, minimumIterations: Int = 3, minimumSeconds: Double = 3,
                           progress: (String) -> Void = { _ in }) -> Result {
        let flow = ConditionalFlow(configuration: c.configuration, seed: 0)
        var g = SeededGenerator(seed: 42)
        let x = g.normalTensor([c.batch, c.configuration.dimension])
        let condition = g.normalTensor([c.batch, c.configuration.conditionDimension])
        var iteration: () -> Void
        if c.training {
            let gradients = FloatBuffer(count: flow.parameters.count)
            let workspace = flow.makeTrainingWorkspace(batch: c.batch)
            let adam = Adam(parameterCount: flow.parameters.count)
            let learningRate = Float(c.batch) * 4.5e-6
            // AMSGrad fused into backward, as `Trainer` runs it (no clipping).
            iteration = {
                let update = adam.beginStep(parameters: flow.parameters, gradients: gradients, learningRate: learningRate)
                _ = x.withUnsafeBufferPointer { xp in
                    condition.withUnsafeBufferPointer { cp in
                        flow.lossAndGradient(x: xp.baseAddress!, condition: cp.baseAddress!,
                                             gradients: gradients, workspace: workspace, applying: update)
                    }
                }
            }
        } else {
            var sampler = SeededGenerator(seed: 7)
            iteration = { _ = flow.sample(condition: condition, count: 1, using: &sampler) }
        }
        for i in 0..<warmup {
            progress("\(c.name): warm-up \(i + 1)/\(warmup)")
            iteration()
        }
        var iterations = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while iterations < minimumIterations || elapsed < minimumSeconds {
            iteration()
            iterations += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            progress("\(c.name): \(iterations) iterations, \(String(format: "%.2f", elapsed)) s")
        }
        let perIteration = elapsed / Double(iterations)
        let flops = forwardFlopsPerSample(c.configuration) * Double(c.batch) * (c.training ? 3 : 1)
        return Result(name: c.name, samplesPerSecond: Double(c.batch) / perIteration,
                      secondsPerIteration: perIteration, iterations: iterations,
                      parameters: flow.parameterCount, gflops: flops / perIteration / 1e9)
    }
}
