import Experts
import Foundation
import Net2Net
import TensorCore

extension Bench {
    /// `--suite efficientnet`: logits of 224×224 images at batch 1 and 16.
    func runEfficientNet() throws {
        let threads = ComputeThreads.blasThreads
        let directory = try AssetStore().directory(for: "efficientnet-lite0") { note("efficientnet-lite0: \($0)") }
        let model = try EfficientNetLite(directory: directory)
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        let flopsPerImage = 2.0 * Double(model.multiplyAddsPerImage)
        var rows: [(String, Double)] = []
        for batch in [1, 16] {
            var rng = SeededGenerator(seed: 0)
            let x = Tensor(shape: [batch, 3, 224, 224],
                           scalars: (0..<(batch * 3 * 224 * 224)).map { _ in Float.random(in: -1...1, using: &rng) })
            _ = try model.logits(x)
            var count = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                _ = try model.logits(x)
                count += batch
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < minTime || count < minIterations * batch
            rows.append(("encode-b\(batch)", Double(count) / elapsed))
            note(String(format: "encode-b%d: %.1f images/s", batch, Double(count) / elapsed))
        }
        var rates: [String: Double] = [:]
        var version: String? = nil
        if let baseline {
            (rates, version) = try runBaseline(baseline, arguments: [directory.path, "--json", "--threads", String(threads),
                                                                     "--seconds", String(minTime)],
                                               rateKey: "images_per_second")
        }
        if json {
            try printJSON(["threads": threads, "sgemm_peak_gflops": peak, "gflop_per_image": flopsPerImage / 1e9,
                           "pytorch_version": version as Any? ?? NSNull(),
                           "results": rows.map { name, rate -> [String: Any] in
                var row: [String: Any] = ["case": name, "images_per_second": rate, "gflops": rate * flopsPerImage / 1e9,
                                          "fraction_of_peak": rate * flopsPerImage / 1e9 / peak]
                if let b = rates[name] { row["baseline_images_per_second"] = b; row["ratio"] = rate / b }
                return row
            }])
        } else {
            print("threads \(threads), sgemm peak \(String(format: "%.1f", peak)) GFLOP/s, "
                  + String(format: "%.3f GFLOP/image", flopsPerImage / 1e9) + (version.map { ", PyTorch \($0)" } ?? ""))
            print("case          ours images/s   GFLOP/s  of peak   PyTorch images/s   ratio")
            for (name, rate) in rows {
                let gflops = rate * flopsPerImage / 1e9
                let b = rates[name]
                print(name.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "%15.1f %9.1f %7.0f%%", rate, gflops, 100 * gflops / peak)
                      + (b.map { String(format: "%19.1f %7.2f×", $0, rate / $0) } ?? "                  —       —"))
            }
        }
    }
}
