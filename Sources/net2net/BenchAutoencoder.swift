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
        var rows: [(String, Double)] = []
        for batch in [64, 128] {
            note("vae-train-b\(batch)…")
            rows.append(("vae-train-b\(batch)", AutoencoderBenchmark.trainingRate(architecture: architecture, batch: batch,
                                                                                 seconds: minTime)))
        }
        var rates: [String: Double] = [:]
        if let baseline {
            (rates, _) = try runBaseline(baseline, arguments: ["--json", "--threads", String(threads), "--seconds", String(minTime),
                                                               "--latent", String(architecture.latentDimension),
                                                               "--width", String(architecture.width)],
                                         rateKey: "images_per_second")
        }
        if json {
            try printJSON(["threads": threads, "sgemm_peak_gflops": peak, "results": rows.map { name, rate -> [String: Any] in
                var row: [String: Any] = ["case": name, "images_per_second": rate, "gflops": rate * flopsPerImage / 1e9,
                                          "fraction_of_peak": rate * flopsPerImage / 1e9 / peak]
                if let b = rates[name] { row["baseline_images_per_second"] = b; row["ratio"] = rate / b }
                return row
            }])
        } else {
            print("threads \(threads), sgemm peak \(String(format: "%.1f", peak)) GFLOP/s (training FLOPs counted as 3× the forward)")
            print("case              ours images/s   GFLOP/s  of peak   PyTorch images/s   ratio")
            for (name, rate) in rows {
                let gflops = rate * flopsPerImage / 1e9
                let b = rates[name]
                print(name.padding(toLength: 16, withPad: " ", startingAt: 0)
                      + String(format: "%15.1f %9.1f %7.0f%%", rate, gflops, 100 * gflops / peak)
                      + (b.map { String(format: "%19.1f %7.2f×", $0, rate / $0) } ?? "                  —       —"))
            }
        }
    }
}
