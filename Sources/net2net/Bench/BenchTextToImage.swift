import ArgumentParser
import Experts
import Flow
import Formats
import Foundation
import Net2Net
import TensorCore

extension Bench {
    /// `--suite text-to-image`: prompt in, PNG out, with the models loaded:
    /// per-stage times for one prompt and for a batch of 64 prompts.
    func runTextToImage() throws {
        let threads = ComputeThreads.blasThreads
        let location = (try ShippedModels.textToImage)
        let translator = try Translator.experiment(at: location, loading: ExpertLoading(progress: { note($0) }))
        // The tokeniser and the network are timed apart.
        guard let text = (translator.conditionEncoder as? SentenceConditionEncoder)?.model as? TextExpert else {
            throw Net2NetError.unsupported("\(location.path): the text-to-image bench times a MiniLM condition encoder")
        }
        let prompts = (0..<64).map { Demo.defaultPrompts[$0 % Demo.defaultPrompts.count] + ($0 < 6 ? "" : " \($0)") }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-bench-\(getpid()).png")
        defer { try? FileManager.default.removeItem(at: output) }
        var rows: [[String: Any]] = []
        for batch in [1, 64] {
            let chosen = Array(prompts.prefix(batch))
            var stages = [Double](repeating: 0, count: 5)  // tokenise, MiniLM, τ, decoder, PNG
            var runs = 0
            let start = DispatchTime.now().uptimeNanoseconds
            repeat {
                var t = DispatchTime.now().uptimeNanoseconds
                func lap(_ i: Int) {
                    let now = DispatchTime.now().uptimeNanoseconds
                    stages[i] += Double(now - t) / 1e9
                    t = now
                }
                let ids = chosen.map { text.tokenizer.encode($0) }
                lap(0)
                let condition = text.encoder.embed(tokenIDs: ids)
                lap(1)
                let z = try translator.sample(condition: condition, count: 1, seed: UInt64(runs))
                lap(2)
                let images = try translator.decode(z)
                lap(3)
                try PNGImage.grid(images, columns: 8).write(to: output)
                lap(4)
                runs += 1
            } while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minTime || runs < minIterations
            let perRun = stages.map { $0 / Double(runs) }
            rows.append(["case": "prompt-to-png-b\(batch)", "batch": batch, "runs": runs,
                         "seconds_per_batch": perRun.reduce(0, +), "milliseconds_per_sample": 1000 * perRun.reduce(0, +) / Double(batch),
                         "tokenise_ms": 1000 * perRun[0], "minilm_ms": 1000 * perRun[1], "flow_ms": 1000 * perRun[2],
                         "decoder_ms": 1000 * perRun[3], "png_ms": 1000 * perRun[4]])
        }
        if json {
            try printBenchJSON(["threads": threads, "results": rows])
            return
        }
        print("threads \(threads); text → image latency, models loaded (ms per batch)")
        print("case                  tokenise   MiniLM        τ   decoder      PNG    total   per sample")
        for r in rows {
            func ms(_ key: String) -> String { String(format: "%9.2f", r[key] as! Double) }
            print((r["case"] as! String).padding(toLength: 20, withPad: " ", startingAt: 0)
                  + ms("tokenise_ms") + ms("minilm_ms") + ms("flow_ms") + ms("decoder_ms") + ms("png_ms")
                  + String(format: "%9.2f %12.3f", 1000 * (r["seconds_per_batch"] as! Double), r["milliseconds_per_sample"] as! Double))
        }
    }
}
