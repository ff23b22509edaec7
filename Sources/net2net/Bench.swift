import ArgumentParser
import Foundation
import Net2Net
import TensorCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark training and sampling throughput, beside the PyTorch CPU baseline.",
        discussion: """
        Cases: \(FlowBenchmark.cases.map(\.name).joined(separator: ", ")). For each: samples/s, \
        achieved GEMM GFLOP/s and its fraction of this machine's measured sgemm peak. When \
        --baseline names the PyTorch script (bench/flow_baseline.py; needs `pip install \
        torch==2.13.0+cpu`), it runs in the same invocation with the same threads and the ratio \
        ours / PyTorch is printed.

        Example:
          net2net bench --threads 2 --baseline bench/flow_baseline.py
          net2net bench --cases train-small-b128 --json
        """)

    @Option(help: "Comma-separated case names (default: all).") var cases: String?
    @Option(help: "Path of the PyTorch baseline script to run alongside.") var baseline: String?
    @Option(help: "Python interpreter for the baseline.") var python: String = "python3"
    @Option(help: "Minimum timed seconds per case.") var minTime: Double = 3
    @Option(help: "Minimum timed iterations per case.") var minIterations: Int = 3
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let threads = ComputeThreads.blasThreads
        var selected = FlowBenchmark.cases
        if let cases {
            let names = cases.split(separator: ",").map(String.init)
            for name in names where !FlowBenchmark.cases.contains(where: { $0.name == name }) {
                throw ValidationError("unknown case '\(name)'; cases: \(FlowBenchmark.cases.map(\.name).joined(separator: ", "))")
            }
            selected = FlowBenchmark.cases.filter { names.contains($0.name) }
        }
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        note(String(format: "sgemm peak: %.1f GFLOP/s", peak))
        var results: [FlowBenchmark.Result] = []
        for c in selected {
            let result = FlowBenchmark.run(c, minimumIterations: minIterations, minimumSeconds: minTime) { message in
                FileHandle.standardError.write(Data("\r\(message)\u{1B}[K".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            results.append(result)
        }
        var baselineRates: [String: Double] = [:]
        var baselineVersion: String? = nil
        if let baseline {
            guard FileManager.default.fileExists(atPath: baseline) else {
                throw ValidationError("\(baseline): no such baseline script")
            }
            note("running the PyTorch baseline (\(baseline))…")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, baseline, "--json", "--threads", String(threads),
                                 "--cases", selected.map(\.name).joined(separator: ","),
                                 "--min-time", String(minTime), "--min-iters", String(minIterations)]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
                  let rows = object["results"] as? [[String: Any]] else {
                throw ValidationError("the baseline failed (exit \(process.terminationStatus)); is PyTorch installed? pip install torch==2.13.0+cpu")
            }
            baselineVersion = object["version"] as? String
            for row in rows {
                if let name = row["case"] as? String, let rate = row["samples_per_second"] as? Double {
                    baselineRates[name] = rate
                }
            }
        }
        if json {
            try printJSON([
                "threads": threads,
                "sgemm_peak_gflops": peak,
                "pytorch_version": baselineVersion as Any? ?? NSNull(),
                "results": results.map { r -> [String: Any] in
                    var row: [String: Any] = ["case": r.name, "samples_per_second": r.samplesPerSecond,
                                              "seconds_per_iteration": r.secondsPerIteration,
                                              "iterations": r.iterations, "parameters": r.parameters,
                                              "gflops": r.gflops, "fraction_of_peak": r.gflops / peak]
                    if let b = baselineRates[r.name] {
                        row["pytorch_samples_per_second"] = b
                        row["ratio"] = r.samplesPerSecond / b
                    }
                    return row
                },
            ])
        } else {
            print("threads \(threads), sgemm peak \(String(format: "%.1f", peak)) GFLOP/s"
                  + (baselineVersion.map { ", PyTorch \($0)" } ?? ""))
            print("case                    ours samples/s   GFLOP/s  of peak   PyTorch samples/s   ratio")
            func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
            for r in results {
                let b = baselineRates[r.name]
                let name = r.name + String(repeating: " ", count: max(0, 22 - r.name.count))
                print(name + pad(String(format: "%.1f", r.samplesPerSecond), 17)
                      + pad(String(format: "%.1f", r.gflops), 10)
                      + pad(String(format: "%.0f%%", 100 * r.gflops / peak), 9)
                      + pad(b.map { String(format: "%.1f", $0) } ?? "—", 20)
                      + pad(b.map { String(format: "%.2f×", r.samplesPerSecond / $0) } ?? "—", 8))
            }
        }
    }
}
