import ArgumentParser
import Experts
import Foundation
import Net2Net
import TensorCore

extension Bench {
    /// `--suite vae`: training throughput of our VAE at batch 64 and 128 beside bench/vae_baseline.py.
    func runAutoencoder() throws {
        let batches = try selectedBatches(of: "vae")
        let threads = ComputeThreads.blasThreads
        let architecture = AutoencoderArchitecture()
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        let flopsPerImage = 3 * 2 * AutoencoderBenchmark.forwardMultiplyAdds(architecture)
        // Two rounds, ours then the baseline in each, keeping each side's best: on a shared
        // machine a disturbance then hits both sides alike instead of one.
        var best: [String: Double] = [:], rates: [String: Double] = [:]
        var version: String? = nil
        let steps = batches.map { ($0, AutoencoderBenchmark.trainingStep(architecture: architecture, batch: $0)) }
        for round in 1...2 {
            for (batch, step) in steps {
                note("round \(round): vae-train-b\(batch)…")
                best["vae-train-b\(batch)", default: 0] = max(best["vae-train-b\(batch)", default: 0],
                                                             imagesPerSecond(batch: batch) { step() })
            }
            if let baseline {
                let (round, v) = try runBaseline(baseline, arguments: ["--json", "--threads", String(threads), "--seconds",
                                                                       String(minTime), "--latent", String(architecture.latentDimension),
                                                                       "--width", String(architecture.width)],
                                                 rateKey: "images_per_second")
                rates.merge(round) { max($0, $1) }
                version = v
            }
        }
        let rows = steps.map { (name: "vae-train-b\($0.0)", rate: best["vae-train-b\($0.0)"]!) }
        try reportImageRates(rows, flopsPerImage: flopsPerImage, peak: peak, baselineRates: rates, baselineVersion: version,
                             note: " (a training step counted as 3× the forward)")
    }
}
