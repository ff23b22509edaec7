import ArgumentParser
import Foundation
import Net2Net
import TensorCore

/// The parts the image suites (gan, efficientnet, vae) share: timing a
/// batch (`Throughput`, in the library), and one table of images/s, GFLOP/s, fraction of the
/// sgemm peak and the ratio to the baseline.
extension Bench {
    /// Images per second of `body` on a batch of `batch` images (`Throughput`'s rule).
    func imagesPerSecond(batch: Int, _ body: () throws -> Void) rethrows -> Double {
        try Throughput.itemsPerSecond(batch: batch, minimumSeconds: minTime, minimumIterations: minIterations, body)
    }

    /// Runs the baseline script, if one was given, on the model's folder
    /// (the gan and efficientnet baselines take it as their argument), then
    /// prints the table.
    func finishImageSuite(_ rows: [(name: String, rate: Double)], modelDirectory: URL, flopsPerImage: Double,
                          peak: Double) throws {
        var rates: [String: Double] = [:]
        var version: String? = nil
        if let baseline {
            (rates, version) = try runBaseline(baseline, arguments: [modelDirectory.path, "--json",
                                                                     "--threads", String(ComputeThreads.blasThreads),
                                                                     "--seconds", String(minTime)],
                                               rateKey: "images_per_second")
        }
        try reportImageRates(rows, flopsPerImage: flopsPerImage, peak: peak, baselineRates: rates, baselineVersion: version)
    }

    /// Prints the table (or, with --json, one JSON object).
    func reportImageRates(_ rows: [(name: String, rate: Double)], flopsPerImage: Double, peak: Double,
                          baselineRates: [String: Double], baselineVersion: String?, note extra: String = "") throws {
        let threads = ComputeThreads.blasThreads
        if json {
            try printBenchJSON(["threads": threads, "sgemm_peak_gflops": peak, "gflop_per_image": flopsPerImage / 1e9,
                           "pytorch_version": baselineVersion as Any? ?? NSNull(),
                           "results": rows.map { name, rate -> [String: Any] in
                var row: [String: Any] = ["case": name, "images_per_second": rate, "gflops": rate * flopsPerImage / 1e9,
                                          "fraction_of_peak": rate * flopsPerImage / 1e9 / peak]
                if let b = baselineRates[name] { row["baseline_images_per_second"] = b; row["ratio"] = rate / b }
                return row
            }])
            return
        }
        print("threads \(threads), sgemm peak \(String(format: "%.1f", peak)) GFLOP/s, "
              + String(format: "%.3f GFLOP/image", flopsPerImage / 1e9) + extra
              + (baselineVersion.map { ", PyTorch \($0)" } ?? ""))
        print("case              ours images/s   GFLOP/s  of peak   PyTorch images/s   ratio")
        for (name, rate) in rows {
            let gflops = rate * flopsPerImage / 1e9
            let b = baselineRates[name]
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + String(format: "%15.1f %9.1f %7.0f%%", rate, gflops, 100 * gflops / peak)
                  + (b.map { String(format: "%19.1f %7.2f×", $0, rate / $0) } ?? "                  —       —"))
        }
    }
}
