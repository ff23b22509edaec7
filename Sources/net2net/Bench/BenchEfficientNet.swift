import Experts
import Foundation
import Net2Net
import TensorCore

extension Bench {
    /// `--suite efficientnet`: logits of 224×224 images at batch 1 and 16.
    func runEfficientNet() throws {
        let batches = try selectedBatches(of: "efficientnet")
        let threads = ComputeThreads.blasThreads
        let directory = try AssetStore().directory(for: "efficientnet-lite0") { note("efficientnet-lite0: \($0)") }
        let model = try EfficientNetLite(directory: directory)
        note("measuring the sgemm peak (2048³, \(threads) threads)…")
        let peak = FlowBenchmark.sgemmPeak()
        var rows: [(name: String, rate: Double)] = []
        for batch in batches {
            var rng = SeededGenerator(seed: 0)
            let x = Tensor(shape: [batch, 3, 224, 224],
                           scalars: (0..<(batch * 3 * 224 * 224)).map { _ in Float.random(in: -1...1, using: &rng) })
            let rate = try imagesPerSecond(batch: batch) { _ = try model.logits(x) }
            rows.append(("encode-b\(batch)", rate))
            note(String(format: "encode-b%d: %.1f images/s", batch, rate))
        }
        try finishImageSuite(rows, modelDirectory: directory, flopsPerImage: 2 * Double(model.multiplyAddsPerImage), peak: peak)
    }
}
