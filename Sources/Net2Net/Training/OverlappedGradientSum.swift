import Foundation
import MessagePassing
import Layers

/// Sums a gradient buffer over the processes in buckets while backward is
/// still computing the rest of it (the data-parallel step of `Trainer` and
/// of `DataParallelBenchmark`).
///
/// Backward finishes the flow's gradient from the end of the buffer to its
/// start (`ConditionalFlow.lossAndGradient`'s `gradientsFinished`: block
/// n−1, …, block 0, then the embedder), so the finished part not yet handed
/// to MPI is one range [pendingStart, pendingEnd). As soon as it holds
/// `bucketElements` or more it is started as one nonblocking allreduce
/// (MPI_Iallreduce, split further only at `Communicator.bucketElements`),
/// and each report lets MPI advance the reductions in flight (Open MPI
/// advances them only inside MPI calls). `finish` starts what is left (the
/// embedder and the first blocks, which backward finishes last) and waits
/// for every bucket. The buckets depend only on the layout and
/// `bucketElements`, so every process starts the same reductions in the
/// same order, as MPI requires.
///
/// Each element is still the sum of the same N shares: for N = 2 that sum
/// is bit for bit the same however the buffer is cut (a + b = b + a); for
/// larger N, MPI may associate it differently for other message sizes.
final class OverlappedGradientSum {
    let communicator: Communicator
    let gradients: UnsafeMutableBufferPointer<Float>
    /// The least number of finished elements started as one reduction.
    let bucketElements: Int
    private var pendingStart: Int
    private var pendingEnd: Int
    private var requests: [ReductionRequest] = []
    private var failure: Error?
    /// The ranges started as one reduction in the current (or last) step, in order.
    private(set) var buckets: [Range<Int>] = []

    init(communicator: Communicator, gradients: FloatBuffer, bucketElements: Int) {
        precondition(bucketElements > 0, "buckets must hold at least one element")
        self.communicator = communicator
        self.gradients = UnsafeMutableBufferPointer(start: gradients.pointer, count: gradients.count)
        self.bucketElements = bucketElements
        pendingStart = gradients.count
        pendingEnd = gradients.count
    }

    /// Takes `range` of the gradient as final; `range` must end where the
    /// previous one began (the first ends at the end of the buffer).
    func finished(_ range: Range<Int>) {
        precondition(range.upperBound == pendingStart, "finished gradient ranges must be contiguous and descending")
        if pendingStart == gradients.count { buckets = [] }  // the first report of a step
        pendingStart = range.lowerBound
        guard failure == nil else { return }
        do {
            if pendingEnd - pendingStart >= bucketElements { try startPending() }
            if try !requests.isEmpty && communicator.testAll(&requests) { requests = [] }
        } catch {
            failure = error
        }
    }

    /// Starts what is left, waits for every bucket, and makes the object
    /// ready for the next step. Throws the first error of the step (after
    /// every started reduction has completed, so the buffer is free).
    func finish() throws {
        precondition(pendingStart == 0 || failure != nil, "backward did not report the whole gradient as finished")
        defer {
            pendingStart = gradients.count
            pendingEnd = gradients.count
            requests = []
            failure = nil
        }
        if failure == nil && pendingEnd > pendingStart {
            do { try startPending() } catch { failure = error }
        }
        do { try communicator.waitAll(&requests) } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    private func startPending() throws {
        let range = pendingStart..<pendingEnd
        pendingEnd = pendingStart
        buckets.append(range)
        requests.append(try communicator.startAllreduce(UnsafeMutableBufferPointer(rebasing: gradients[range])))
    }
}
