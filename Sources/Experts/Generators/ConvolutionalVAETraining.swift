import Foundation
import Layers
import TensorCore

/// Activations and gradients of one VAE training step for batches up to `batch`.
public final class VAETrainingWorkspace: @unchecked Sendable {
    public let batch: Int
    let encoder: SequentialWorkspace
    let decoder: SequentialWorkspace
    let noise: FloatBuffer        // ε [B, Z]
    let latent: FloatBuffer       // z [B, Z]
    let outputGradient: FloatBuffer     // ∂L/∂x̂ [B, 784]
    let latentGradient: FloatBuffer     // ∂L/∂z [B, Z]
    let posteriorGradient: FloatBuffer  // ∂L/∂(μ, log σ²) [B, 2Z]

    init(_ model: ConvolutionalVAE, batch: Int) {
        let Z = model.latentDimension
        self.batch = batch
        encoder = model.encoder.makeWorkspace(batch: batch)
        decoder = model.decoder.makeWorkspace(batch: batch)
        noise = FloatBuffer(count: batch * Z)
        latent = FloatBuffer(count: batch * Z)
        outputGradient = FloatBuffer(count: batch * ConvolutionalVAE.pixelCount)
        latentGradient = FloatBuffer(count: batch * Z)
        posteriorGradient = FloatBuffer(count: batch * 2 * Z)
    }
}

/// The terms of the VAE loss, means over the batch (nats per image unless stated).
public struct VAELoss: Sendable, Equatable {
    /// reconstruction + β·KL: what is minimised.
    public var loss: Double
    /// ‖x − x̂‖²/(2γ²) + D·log γ + (D/2)·log 2π.
    public var reconstruction: Double
    /// KL(q(z|x) ‖ N(0, I)).
    public var kl: Double
    /// Mean squared error per pixel (images in [-1, 1]).
    public var meanSquaredError: Double
}

extension ConvolutionalVAE {
    /// Log-variances are clamped to this range (gradient 0 outside) so that σ never under- or overflows.
    static let logVarianceRange: ClosedRange<Float> = -20...12

    public func makeTrainingWorkspace(batch: Int) -> VAETrainingWorkspace {
        VAETrainingWorkspace(self, batch: batch)
    }

    /// One training step's loss (see the type's doc comment) on `batch` images
    /// `x` `[B, 1, 28, 28]`, with ε drawn from `generator`; writes ∂loss/∂θ
    /// into `gradients` (overwriting it). BatchNorm runs in training mode and
    /// updates its running statistics.
    public func lossAndGradient(_ x: UnsafePointer<Float>, batch B: Int, beta: Float,
                                generator: inout SeededGenerator, gradients: FloatBuffer,
                                workspace: VAETrainingWorkspace) -> VAELoss {
        // Every layer splits its batch over the cores itself (single-threaded GEMMs).
        ComputeThreads.withSingleThreadedBLAS {
            precondition(B <= workspace.batch && B > 1, "batch \(B) must be in 2...\(workspace.batch)")
            let Z = latentDimension, D = ConvolutionalVAE.pixelCount
            let p = parameters.pointer
            gradients.zero()
            let h = encoder.forward(x, batch: B, parameters: p, buffers: buffers.pointer, mode: .training,
                                    workspace: workspace.encoder)
            let eps = workspace.noise.pointer, z = workspace.latent.pointer
            generator.fillNormal(UnsafeMutableBufferPointer(start: eps, count: B * Z))
            var kl = 0.0
            for r in 0..<B {
                for j in 0..<Z {
                    let mu = h[r * 2 * Z + j]
                    let lv = min(max(h[r * 2 * Z + Z + j], ConvolutionalVAE.logVarianceRange.lowerBound),
                                 ConvolutionalVAE.logVarianceRange.upperBound)
                    let variance = Foundation.exp(lv)
                    z[r * Z + j] = mu + variance.squareRoot() * eps[r * Z + j]
                    kl += 0.5 * Double(mu * mu + variance - 1 - lv)
                }
            }
            let xHat = decoder.forward(z, batch: B, parameters: p, buffers: buffers.pointer, mode: .training,
                                       workspace: workspace.decoder)
            let logGamma = p[logGammaOffset]
            let inverseVariance = Foundation.exp(-2 * logGamma)
            let dxHat = workspace.outputGradient.pointer
            let scale = inverseVariance / Float(B)
            var squaredError = 0.0
            Parallel.forEachChunk(count: B, minimumChunk: 16) { rows in
                for r in rows {
                    let o = r * D
                    for i in 0..<D { dxHat[o + i] = (xHat[o + i] - x[o + i]) * scale }
                }
            }
            for i in 0..<(B * D) { let d = Double(xHat[i] - x[i]); squaredError += d * d }
            let meanSquaredError = squaredError / Double(B)
            let reconstruction = meanSquaredError * Double(inverseVariance) / 2 + Double(D) * Double(logGamma)
                + Double(D) / 2 * Foundation.log(2 * Double.pi)
            // ∂/∂log γ of mean_i [sse_i·e^{−2 log γ}/2 + D·log γ]
            gradients.pointer[logGammaOffset] = Float(-meanSquaredError * Double(inverseVariance) + Double(D))

            decoder.backward(z, batch: B, dy: dxHat, parameters: p, gradients: gradients.pointer,
                             workspace: workspace.decoder, dx: workspace.latentGradient.pointer)
            let dz = workspace.latentGradient.pointer, dh = workspace.posteriorGradient.pointer
            let klScale = beta / Float(B)
            for r in 0..<B {
                for j in 0..<Z {
                    let mu = h[r * 2 * Z + j], raw = h[r * 2 * Z + Z + j]
                    let inside = ConvolutionalVAE.logVarianceRange.contains(raw)
                    let lv = min(max(raw, ConvolutionalVAE.logVarianceRange.lowerBound), ConvolutionalVAE.logVarianceRange.upperBound)
                    let sigma = Foundation.exp(0.5 * lv)
                    dh[r * 2 * Z + j] = dz[r * Z + j] + klScale * mu
                    dh[r * 2 * Z + Z + j] = inside
                        ? dz[r * Z + j] * eps[r * Z + j] * 0.5 * sigma + klScale * 0.5 * (sigma * sigma - 1) : 0
                }
            }
            encoder.backward(x, batch: B, dy: dh, parameters: p, gradients: gradients.pointer,
                             workspace: workspace.encoder, dx: nil)
            let meanKL = kl / Double(B)
            return VAELoss(loss: reconstruction + Double(beta) * meanKL, reconstruction: reconstruction, kl: meanKL,
                           meanSquaredError: meanSquaredError / Double(D))
        }
    }

    /// The loss on held-out images in inference mode, with z = μ (so the
    /// reconstruction term is that of the posterior mean) and the analytic KL.
    public func evaluate(_ images: Tensor, beta: Float) throws -> VAELoss {
        try checkImages(images)
        let (mean, logVariance) = posterior(images)
        let reconstructed = try decode(mean)
        let N = images.shape[0], D = ConvolutionalVAE.pixelCount
        guard N > 0 else { return VAELoss(loss: .nan, reconstruction: .nan, kl: .nan, meanSquaredError: .nan) }
        var squaredError = 0.0
        for i in 0..<images.count { let d = Double(reconstructed.scalars[i] - images.scalars[i]); squaredError += d * d }
        var kl = 0.0
        for i in 0..<mean.count {
            let mu = Double(mean.scalars[i]), lv = Double(logVariance.scalars[i])
            kl += 0.5 * (mu * mu + Foundation.exp(lv) - 1 - lv)
        }
        let logGamma = Double(parameters.pointer[logGammaOffset])
        let mse = squaredError / Double(N)
        let reconstruction = mse * Foundation.exp(-2 * logGamma) / 2 + Double(D) * logGamma + Double(D) / 2 * Foundation.log(2 * Double.pi)
        return VAELoss(loss: reconstruction + Double(beta) * kl / Double(N), reconstruction: reconstruction,
                       kl: kl / Double(N), meanSquaredError: mse / Double(D))
    }
}
