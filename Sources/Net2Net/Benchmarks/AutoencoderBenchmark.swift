import Experts
import Foundation
import Layers
import TensorCore

/// Training throughput of the VAE: one step = forward, loss, backward and an
/// Adam update, on random images in [-1, 1], as in bench/vae_baseline.py.
public enum AutoencoderBenchmark {
    /// Multiply-adds per image of one forward pass (convolutions and linears),
    /// so that a training step is about 3× this.
    public static func forwardMultiplyAdds(_ architecture: AutoencoderArchitecture) -> Double {
        let w = Double(architecture.width), Z = Double(architecture.latentDimension)
        let encoder = 196 * w * 16 + 49 * 2 * w * w * 16 + 16 * 4 * w * 2 * w * 9 + 4 * w * 16 * 2 * Z
        let decoder = Z * 4 * w * 16 + 16 * 4 * w * 2 * w * 9 + 49 * 2 * w * w * 16 + 196 * w * 16
        return encoder + decoder
    }

    /// One training step on a fixed batch of `batch` random images, ready to be timed.
    public static func trainingStep(architecture: AutoencoderArchitecture, batch: Int) -> () -> Void {
        let model = ConvolutionalVAE(architecture: architecture, seed: 0)
        var generator = SeededGenerator(seed: 1)
        let x = (0..<(batch * ConvolutionalVAE.pixelCount)).map { _ in 2 * generator.nextUniform() - 1 }
        let workspace = model.makeTrainingWorkspace(batch: batch)
        let gradients = FloatBuffer(count: model.parameters.count)
        let adam = Adam(parameterCount: model.parameters.count, beta1: 0.9, beta2: 0.999, amsgrad: false)
        return {
            _ = model.lossAndGradient(x, batch: batch, beta: 1, generator: &generator, gradients: gradients, workspace: workspace)
            adam.update(parameters: model.parameters, gradients: gradients, learningRate: 1e-4)
        }
    }
}
