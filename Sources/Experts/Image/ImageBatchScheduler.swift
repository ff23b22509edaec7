import Foundation
import TensorCore

/// How the image networks spread a batch over the cores: with several
/// images, each thread runs its share of the batch with single-threaded BLAS
/// (no per-layer synchronisation); one image runs with every layer spread
/// over the threads, BLAS single-threaded too. Each share is cut into passes
/// of at most `imagesPerPass` images (larger passes make larger GEMMs,
/// smaller ones keep activations in cache).
///
/// One workspace per concurrent task is kept between calls; calls are
/// serialised, so a network holding a scheduler can be shared.
final class ImageBatchScheduler<Workspace>: @unchecked Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var workspaces: [Workspace] = []
    private let makeWorkspace: () -> Workspace

    init(makeWorkspace: @escaping () -> Workspace) {
        self.makeWorkspace = makeWorkspace
    }

    /// Calls `pass(first, count, workspace)` for passes that together cover
    /// images `0..<count` once, each pass inside one task.
    func run(images count: Int, imagesPerPass: Int, _ pass: (Int, Int, Workspace) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        let tasks = max(1, min(Parallel.threadCount, count))
        while workspaces.count < tasks { workspaces.append(makeWorkspace()) }
        let workspaces = self.workspaces
        func body(_ task: Int) {
            let range = (task * count / tasks)..<((task + 1) * count / tasks)
            var start = range.lowerBound
            while start < range.upperBound {
                let size = min(max(1, imagesPerPass), range.upperBound - start)
                pass(start, size, workspaces[task])
                start += size
            }
        }
        if tasks == 1 {
            ComputeThreads.withSingleThreadedBLAS { body(0) }
        } else {
            ComputeThreads.forEachIndependentTask(tasks, body)
        }
    }
}
