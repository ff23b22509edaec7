import ArgumentParser
import Experts
import Foundation
import Net2Net
import TensorCore

extension Bench {
    /// `--suite vae`: training throughput of our VAE at batch 64 and 128 beside bench/vae_baseline.py.
    func runAutoencoder() throws {
        let threads = ComputeThreads.blasThreads
        let architecture = AutoencoderArchitecture()
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        let flopsPerImage = 3 * 2 * AutoencoderBenchmark.forwardMultiplyAdds(architecture)
        var rows: [(name: String, rate: Double)] = []
        for batch in [64, 128] {
            note("vae-train-b\(batch)…")
            let step = AutoencoderBenchmark.trainingStep(architecture: architecture, batch: batch)
            rows.append(("vae-train-b\(batch)", imagesPerSecond(batch: batch) { step() }))
        }
        var rates: [String: Double] = [:]
        var version: String? = nil
        if let baseline {
            (rates, version) = try runBaseline(baseline, arguments: ["--json", "--threads", String(threads), "--seconds", String(minTime),
                                                                     "--latent", String(architecture.latentDimension),
                                                                     "--width", String(architecture.width)],
                                               rateKey: "images_per_second")
        }
        try reportImageRates(rows, flopsPerImage: flopsPerImage, peak: peak, baselineRates: rates, baselineVersion: version,
                             note: " (a training step counted as 3× the forward)")
    }
}
