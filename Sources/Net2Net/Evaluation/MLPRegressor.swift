import Foundation
import Layers
import TensorCore

/// The paper's deterministic baseline (Fig. 12): an MLP regressing z_Θ from
/// z_Φ by least squares on the same pairs τ is trained on. It can only
/// predict the conditional mean, so all its "samples" for one condition are
/// the same image.
///
///     z_Φ → Linear(H) → LReLU(0.2) → Linear(H) → LReLU(0.2) → Linear(D)
///     loss = mean over the batch of ‖ẑ − z_Θ‖²
public final class MLPRegressor: @unchecked Sendable {
    public let network: Sequential
    let layout: ParameterLayout
    public let parameters: FloatBuffer
    let buffers: FloatBuffer

    public init(conditionDimension: Int, dimension: Int, hidden: Int = 256, seed: UInt64 = 0) {
        var layout = ParameterLayout(), buffers = ParameterLayout()
        network = Sequential("regressor", inputShape: [conditionDimension], layers: [
            .linear(outputDimension: hidden), .leakyReLU(slope: 0.2),
            .linear(outputDimension: hidden), .leakyReLU(slope: 0.2), .linear(outputDimension: dimension),
        ], parameters: &layout, buffers: &buffers)
        self.layout = layout
        parameters = FloatBuffer(count: layout.count)
        self.buffers = FloatBuffer(count: max(buffers.count, 1))
        var generator = SeededGenerator(seed: seed)
        network.initialize(parameters.pointer, buffers: self.buffers.pointer, using: &generator)
    }

    /// Fits the pairs with Adam (lr 1e-3, cosine decay) for `steps` minibatches of `batchSize`;
    /// returns the final mean squared error per dimension over the pairs.
    @discardableResult
    public func fit(_ pairs: PairDataset, steps: Int = 3000, batchSize: Int = 128, seed: UInt64 = 0,
                    progress: (Int, Double) -> Void = { _, _ in }) -> Double {
        let Dc = pairs.conditionDimension, D = pairs.dimension, B = min(batchSize, pairs.count)
        let workspace = network.makeWorkspace(batch: B)
        let gradients = FloatBuffer(count: parameters.count)
        let adam = Adam(parameterCount: parameters.count, beta1: 0.9, beta2: 0.999, amsgrad: false)
        let schedule = LearningRateSchedule(base: 1e-3, warmupSteps: 0, decay: .cosine, totalSteps: steps, finalFraction: 0.02)
        var x = [Float](repeating: 0, count: B * Dc), y = [Float](repeating: 0, count: B * D)
        var dy = [Float](repeating: 0, count: B * D)
        var generator = SeededGenerator(seed: seed)
        var order = generator.permutation(pairs.count), cursor = 0
        for step in 0..<steps {
            for r in 0..<B {
                if cursor == order.count { order = generator.permutation(pairs.count); cursor = 0 }
                let row = order[cursor]
                cursor += 1
                for j in 0..<Dc { x[r * Dc + j] = pairs.condition.scalars[row * Dc + j] }
                for j in 0..<D { y[r * D + j] = pairs.target.scalars[row * D + j] }
            }
            gradients.zero()
            let prediction = network.forward(x, batch: B, parameters: parameters.pointer, buffers: buffers.pointer,
                                             mode: .training, workspace: workspace)
            var loss = 0.0
            for i in 0..<(B * D) {
                let d = prediction[i] - y[i]
                loss += Double(d * d)
                dy[i] = 2 * d / Float(B)
            }
            network.backward(x, batch: B, dy: dy, parameters: parameters.pointer, gradients: gradients.pointer,
                             workspace: workspace, dx: nil)
            adam.update(parameters: parameters, gradients: gradients, learningRate: schedule.rate(at: step))
            if (step + 1) % 500 == 0 { progress(step + 1, loss / Double(B * D)) }
        }
        let predictions = predict(pairs.condition)
        var total = 0.0
        for i in 0..<predictions.count { let d = Double(predictions.scalars[i] - pairs.target.scalars[i]); total += d * d }
        return total / Double(predictions.count)
    }

    /// ẑ `[N, D]` for conditions `[N, Dc]`.
    public func predict(_ condition: Tensor) -> Tensor {
        let N = condition.shape[0], D = network.outputCount
        var out = Tensor(zeros: [N, D])
        condition.scalars.withUnsafeBufferPointer { c in
            network.inferInChunks(c.baseAddress!, count: N, parameters: parameters.pointer, buffers: buffers.pointer) { first, n, y, _ in
                for i in 0..<(n * D) { out.scalars[first * D + i] = y[i] }
            }
        }
        return out
    }
}
