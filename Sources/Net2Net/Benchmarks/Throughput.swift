import Dispatch

/// The timing rule of the image suites (gan, efficientnet, vae), which the
/// PyTorch baselines follow too.
public enum Throughput {
    /// Items per second of `body` on a batch of `batch` items: one untimed
    /// call, then the best of three windows of `minimumSeconds`/3 seconds
    /// (and at least `minimumIterations` calls in the last); the best window
    /// is the one least disturbed by the rest of a shared machine.
    public static func itemsPerSecond(batch: Int, minimumSeconds: Double, minimumIterations: Int,
                                      _ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = 0.0
        for window in 0..<3 {
            var count = 0, calls = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                try body()
                count += batch
                calls += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < minimumSeconds / 3 || (window == 2 && calls < minimumIterations)
            best = max(best, Double(count) / elapsed)
        }
        return best
    }
}
