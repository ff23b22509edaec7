import ArgumentParser
import Foundation
import Experts
import Net2Net
import TensorCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark throughput beside the PyTorch CPU baselines.",
        discussion: """
        --suite flow (default): training and sampling of the cINN. \
        Cases: \(FlowBenchmark.cases.map(\.name).joined(separator: ", ")). For each: samples/s, \
        achieved GEMM GFLOP/s and its fraction of this machine's measured sgemm peak. When \
        --baseline names the PyTorch script (bench/flow_baseline.py; needs `pip install \
        torch==2.13.0+cpu`), it runs in the same invocation with the same threads and the ratio \
        ours / PyTorch is printed. --rounds N alternates the two sides N times and reports each \
        side's best round.

        --suite text: MiniLM sentence embeddings at batch 1 and 32 on caption-length \
        sentences (tokenisation included), and the model's load time; the baseline is \
        bench/minilm_baseline.py (sentence-transformers on PyTorch CPU).

        --suite mpnet: the same for MPNet (all-mpnet-base-v2, 768-d); the baseline is the same \
        script, run on MPNet's folder.

        --suite gan: the DCGAN face generator at batch 1 and 64, images/s and the GEMM \
        GFLOP/s against the sgemm peak; the baseline is bench/dcgan_baseline.py.

        --suite efficientnet: EfficientNet-Lite0 logits of 224×224 images at batch 1 and 16, \
        images/s and GFLOP/s (all convolutions and _fc) against the sgemm peak; the baseline \
        is bench/efficientnet_baseline.py (efficientnet-lite-pytorch on PyTorch CPU).

        --suite vae: training steps of our autoencoder (forward, loss, backward, Adam) at batch \
        64 and 128, images/s; the baseline is bench/vae_baseline.py (the same architecture and \
        loss in PyTorch CPU).

        --suite text-to-image: the demo's path end to end with the models loaded (prompt → \
        tokens → MiniLM → τ → decoder → PNG grid) for 1 and 64 prompts, with the time of each stage.

        --suite distributed: data-parallel training steps (sharded forward and backward, gradient \
        allreduce, AMSGrad) of the reference flow at global batch 16 and the small one at 128, on \
        the processes of an MPI job (run it under mpirun; alone it is one process): step time, \
        time in allreduce after backward, bytes per step and the allreduce's bus bandwidth, for \
        each --gradient-buckets size (alternated step by step).

        Examples:
          net2net bench --threads 2 --baseline bench/flow_baseline.py
          net2net bench --cases train-small-b128 --json
          net2net bench --suite text --baseline bench/minilm_baseline.py
          net2net bench --suite mpnet --threads 2 --baseline bench/minilm_baseline.py
          net2net bench --suite gan --baseline bench/dcgan_baseline.py
          net2net bench --suite efficientnet --threads 2 --baseline bench/efficientnet_baseline.py
          net2net bench --suite vae --threads 2 --baseline bench/vae_baseline.py
          mpirun -np 2 net2net bench --suite distributed --threads 1
        """)

    @Option(help: "flow, text, mpnet, gan, efficientnet, vae, text-to-image or distributed.") var suite: String = "flow"

    @Option(help: "Comma-separated case names (default: all): the flow suite's (above), decode-b1/decode-b64 (gan), encode-b1/encode-b16 (efficientnet), vae-train-b64/vae-train-b128 (vae) or the distributed suite's.") var cases: String?
    @Option(help: "Path of the PyTorch baseline script to run alongside.") var baseline: String?
    @Option(help: "Python interpreter for the baseline.") var python: String = "python3"
    @Option(help: "Minimum timed seconds per case.") var minTime: Double = 3
    @Option(help: "Minimum timed iterations per case.") var minIterations: Int = 3
    @Option(help: "flow suite: rounds of ours-then-baseline; each side reports its best round (machine noise hits both alike).")
    var rounds: Int = 1
    @Option(help: "distributed suite: comma-separated gradient bucket sizes in MiB, alternated step by step (0: one allreduce after backward; more: buckets started during backward).")
    var gradientBuckets: String = "0,4"
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var compute: ComputeOptions

    /// The image suites' cases: one per batch size, named `<prefix>-b<batch>`.
    static let imageSuiteCases: [String: (prefix: String, batches: [Int])] = [
        "gan": ("decode", [1, 64]), "efficientnet": ("encode", [1, 16]), "vae": ("vae-train", [64, 128]),
    ]

    /// The names `--cases` chooses among in each suite that has a choice.
    static let caseNames: [String: [String]] = imageSuiteCases.mapValues { suite in
        suite.batches.map { "\(suite.prefix)-b\($0)" }
    }.merging(["flow": FlowBenchmark.cases.map(\.name), "distributed": distributedCases.map(\.name)]) { $1 }

    /// The batch sizes of image suite `suite` that `--cases` selects (all by default).
    func selectedBatches(of suite: String) throws -> [Int] {
        let cases = Bench.imageSuiteCases[suite]!
        let names = try selectedCases(Bench.caseNames[suite]!)
        return cases.batches.filter { names.contains("\(cases.prefix)-b\($0)") }
    }

    /// Checks `--cases` before anything is loaded or printed.
    func validate() throws {
        guard cases != nil else { return }
        if let names = Bench.caseNames[suite] {
            _ = try selectedCases(names)
        } else if ["text", "mpnet", "text-to-image"].contains(suite) {
            throw ValidationError("--cases: the \(suite) suite always runs all of its cases")
        }
    }

    func run() throws {
        try compute.apply()
        if !json && suite != "distributed" {  // (distributed: rank 0 alone prints)
            for line in MachineDescription.current().lines { print(line) }
        }
        switch suite {
        case "flow": try runFlow()
        case "text": try runText()
        case "mpnet": try runText(asset: "mpnet")
        case "gan": try runGenerator()
        case "efficientnet": try runEfficientNet()
        case "vae": try runAutoencoder()
        case "text-to-image": try runTextToImage()
        case "distributed": try runDistributed()
        default: throw ValidationError("unknown suite '\(suite)'; suites: flow, text, mpnet, gan, efficientnet, vae, text-to-image, distributed")
        }
    }

    /// Prints the suite's JSON object with the machine it ran on under "machine".
    func printBenchJSON(_ object: [String: Any]) throws {
        var object = object
        object["machine"] = MachineDescription.current().dictionary
        try printJSON(object)
    }

    /// Runs a baseline script that prints one JSON object with "results":
    /// [{"case", <rateKey>}]; returns case → rate and the reported version.
    func runBaseline(_ script: String, arguments: [String], rateKey: String) throws -> ([String: Double], String?) {
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("\(script): no such baseline script")
        }
        note("running the baseline (\(script))…")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
              let rows = object["results"] as? [[String: Any]] else {
            throw ValidationError("the baseline \(script) failed (exit \(process.terminationStatus); its own error is above); "
                                  + "it needs the CPU PyTorch (pip install torch==2.13.0+cpu) and the expert's PyTorch package named in its header")
        }
        if let machine = object["machine"] as? [String: Any] {
            let line = "baseline: PyTorch \(machine["torch"] ?? "?"), BLAS \(machine["blas"] ?? "?")"
                + " (MKL \(machine["mkl"] as? Bool == true ? "yes" : "no")), CPU capability \(machine["cpu_capability"] ?? "?")"
                + ", \(machine["threads"] ?? "?") threads"
            if json { note(line) } else { print(line) }
        }
        var rates: [String: Double] = [:]
        for row in rows {
            if let name = row["case"] as? String, let rate = row[rateKey] as? Double { rates[name] = rate }
        }
        return (rates, object["version"] as? String)
    }

    /// `--suite text` (MiniLM) and `--suite mpnet`: the same sentences, the
    /// same baseline script (sentence-transformers on the model's folder).
    func runText(asset: String = "minilm") throws {
        let threads = ComputeThreads.blasThreads
        let store = AssetStore()
        let directory = try store.directory(for: asset) { note("\(asset): \($0)") }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        // The word pieces each model keeps, as sentence-transformers ships it (the baseline is told the same).
        let (model, maximumLength): (any SentenceEmbedder, Int) = asset == "mpnet"
            ? (try MPNetTextExpert(directory: directory), MPNetTextExpert.defaultMaxLength)
            : (try TextExpert(directory: directory), 256)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        note(String(format: "model loaded in %.3f s", loadSeconds))
        let results = TextBenchmark.run(embed: model.embed, minimumSeconds: minTime)
        var rates: [String: Double] = [:]
        if let baseline {
            (rates, _) = try runBaseline(baseline, arguments: [directory.path, "--json", "--threads", String(threads),
                                                               "--seconds", String(minTime),
                                                               "--max-seq-length", String(maximumLength)],
                                         rateKey: "sentences_per_second")
        }
        if json {
            try printBenchJSON([
                "threads": threads, "load_seconds": loadSeconds,
                "results": results.map { r -> [String: Any] in
                    var row: [String: Any] = ["case": r.name, "sentences_per_second": r.sentencesPerSecond]
                    if let b = rates[r.name] { row["baseline_sentences_per_second"] = b; row["ratio"] = r.sentencesPerSecond / b }
                    return row
                },
            ])
        } else {
            print("threads \(threads), model load \(String(format: "%.3f", loadSeconds)) s")
            print("case          ours sentences/s   sentence-transformers   ratio")
            for r in results {
                let b = rates[r.name]
                print(r.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "%18.1f", r.sentencesPerSecond)
                      + (b.map { String(format: "%24.1f", $0) } ?? String(repeating: " ", count: 23) + "—")
                      + (b.map { String(format: "%8.2f×", r.sentencesPerSecond / $0) } ?? "       —"))
            }
        }
    }

    func runGenerator() throws {
        let batches = try selectedBatches(of: "gan")
        let threads = ComputeThreads.blasThreads
        let directory = try AssetStore().directory(for: "dcgan-faces") { note("dcgan-faces: \($0)") }
        let generator = try FaceGenerator(directory: directory)
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        var rows: [(name: String, rate: Double)] = []
        for batch in batches {
            var rng = SeededGenerator(seed: 0)
            let z = rng.normalTensor([batch, FaceGenerator.latentDimension])
            rows.append(("decode-b\(batch)", try imagesPerSecond(batch: batch) { _ = try generator.generate(z) }))
        }
        try finishImageSuite(rows, modelDirectory: directory, flopsPerImage: 2 * Double(FaceGenerator.multiplyAddsPerImage),
                             peak: peak)
    }

    func runFlow() throws {
        let threads = ComputeThreads.blasThreads
        let names = try selectedCases(FlowBenchmark.cases.map(\.name))
        let selected = FlowBenchmark.cases.filter { names.contains($0.name) }
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        note(String(format: "sgemm peak: %.1f GFLOP/s", peak))
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        // Each round runs every case of ours, then the baseline's; each side keeps its best round.
        var best: [String: FlowBenchmark.Result] = [:]
        var baselineRates: [String: Double] = [:]
        var baselineVersion: String? = nil
        for round in 1...rounds {
            if rounds > 1 { note("round \(round) of \(rounds)") }
            for c in selected {
                let result = FlowBenchmark.run(c, minimumIterations: minIterations, minimumSeconds: minTime) { message in
                    FileHandle.standardError.write(Data("\r\(message)\u{1B}[K".utf8))
                }
                FileHandle.standardError.write(Data("\n".utf8))
                if result.samplesPerSecond > best[c.name]?.samplesPerSecond ?? 0 { best[c.name] = result }
            }
            if let baseline {
                let (rates, version) = try runBaseline(
                    baseline, arguments: ["--json", "--threads", String(threads),
                                          "--cases", selected.map(\.name).joined(separator: ","),
                                          "--min-time", String(minTime), "--min-iters", String(minIterations)],
                    rateKey: "samples_per_second")
                baselineRates.merge(rates) { max($0, $1) }
                baselineVersion = version
            }
        }
        let results = selected.compactMap { best[$0.name] }
        if json {
            try printBenchJSON([
                "threads": threads,
                "rounds": rounds,
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
