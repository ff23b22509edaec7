import Flow
import Foundation
import Layers
import MessagePassing
import TensorCore

/// Timing of data-parallel training steps (`net2net bench --suite
/// distributed`, under mpirun): each process computes its share of a global
/// batch (sharded forward and backward), the gradient is summed with
/// allreduce, and every process applies AMSGrad, as `Trainer` does.
public enum DataParallelBenchmark {
    public struct Result: Sendable, Codable {
        public let name: String
        public let processes: Int
        public let globalBatch: Int
        public let parameters: Int
        /// Float32 gradient bytes each process reduces per step.
        public let gradientBytes: Int
        /// Wall time of one step on rank 0 (compute + allreduce + update).
        public let secondsPerStep: Double
        /// Of it, inside the gradient allreduce (including waiting for the slowest process).
        public let allreduceSecondsPerStep: Double
        /// The gradient allreduce alone, after a barrier (no waiting for a slower process), best of three.
        public let allreduceAloneSeconds: Double
        /// Bytes each process sends (and receives) per step in a ring allreduce: 2(N − 1)/N · gradientBytes.
        public let ringBytesPerStep: Double
        /// ringBytesPerStep / allreduceAloneSeconds, in GB/s (0 for one process).
        public let busBandwidthGBps: Double
        public let samplesPerSecond: Double
    }

    /// `steps` timed steps (after `warmup`) of `configuration` at `globalBatch` rows.
    public static func run(name: String, configuration: FlowConfiguration, globalBatch: Int,
                           communicator: Communicator, steps: Int = 5, warmup: Int = 1,
                           progress: (String) -> Void = { _ in }) throws -> Result {
        guard globalBatch % communicator.size == 0 else {
            throw Net2NetError.configuration("batch \(globalBatch) does not split over \(communicator.size) processes")
        }
        let local = globalBatch / communicator.size
        let flow = ConditionalFlow(configuration: configuration, seed: 0)
        let gradients = FloatBuffer(count: flow.parameters.count)
        let workspace = flow.makeTrainingWorkspace(batch: local)
        let adam = Adam(parameterCount: flow.parameters.count)
        var generator = SeededGenerator(seed: 42)
        let x = generator.normalTensor([globalBatch, configuration.dimension])
        let condition = generator.normalTensor([globalBatch, configuration.conditionDimension])
        let first = communicator.rank * local
        let xs = x.rows(first..<(first + local)), cs = condition.rows(first..<(first + local))
        var failure: Error?
        let shard = communicator.usesMPI ? BatchShard(globalBatch: globalBatch) { values in
            do { try communicator.allreduce(values) } catch { failure = failure ?? error }
        } : nil
        let gradientBuffer = UnsafeMutableBufferPointer(start: gradients.pointer, count: gradients.count)
        var stepSeconds = 0.0, allreduceSeconds = 0.0
        for step in 0..<(warmup + steps) {
            try communicator.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            xs.withUnsafeBufferPointer { xp in
                cs.withUnsafeBufferPointer { cp in
                    _ = flow.lossAndGradient(x: xp.baseAddress!, condition: cp.baseAddress!, gradients: gradients,
                                             workspace: workspace, shard: shard)
                }
            }
            if let failure { throw failure }
            let reduceStart = DispatchTime.now().uptimeNanoseconds
            try communicator.allreduce(gradientBuffer)
            let reduceEnd = DispatchTime.now().uptimeNanoseconds
            _ = adam.update(parameters: flow.parameters, gradients: gradients, learningRate: 1e-5)
            let end = DispatchTime.now().uptimeNanoseconds
            if step >= warmup {
                stepSeconds += Double(end - start) / 1e9
                allreduceSeconds += Double(reduceEnd - reduceStart) / 1e9
            }
            progress("\(name), \(communicator.size) processes: step \(step + 1)/\(warmup + steps)")
        }
        var alone = communicator.usesMPI ? Double.infinity : 0
        if communicator.usesMPI {
            for _ in 0..<3 {
                try communicator.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                try communicator.allreduce(gradientBuffer)
                alone = min(alone, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        let bytes = gradients.count * MemoryLayout<Float>.stride
        let n = Double(communicator.size)
        let ring = 2 * (n - 1) / n * Double(bytes)
        return Result(name: name, processes: communicator.size, globalBatch: globalBatch,
                      parameters: flow.parameters.count, gradientBytes: bytes,
                      secondsPerStep: stepSeconds / Double(steps), allreduceSecondsPerStep: allreduceSeconds / Double(steps),
                      allreduceAloneSeconds: alone, ringBytesPerStep: ring,
                      busBandwidthGBps: alone > 0 ? ring / alone / 1e9 : 0,
                      samplesPerSecond: Double(globalBatch) * Double(steps) / stepSeconds)
    }
}
