import ArgumentParser
import Foundation
import Net2Net

extension Demo {
    /// `--known-answer`: τ on a conditional Gaussian, checked against its closed form (`KnownAnswerCheck`).
    func runKnownAnswer() throws {
        let directory = fileURL(outputDirectory)
        let summary = try KnownAnswerCheck.run(directory: directory, steps: steps ?? 3000, seed: seed, progress: { note($0) }) { event, entropy in
            switch event {
            case let .progress(step, total, loss, nats, rate, _):
                note(String(format: "      step %5d/%d  loss %8.4f  %.4f nats/dim  %6.0f samples/s", step, total, loss, nats, rate))
            case let .validation(step, nats, _):
                note(String(format: "      step %5d  validation %.4f nats/dim (analytic entropy %.4f)", step, nats, entropy))
            case .checkpoint, .best, .earlyStop: break
            }
        }
        print(summary)
        let checkpoint = directory.appendingPathComponent("checkpoint")
        note("outputs: \(directory.path)/{condition,target,test_condition,test_target}.npy, \(checkpoint.path)/, \(directory.path)/summary.txt")
    }
}
