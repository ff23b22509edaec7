import Foundation
import Layers
import MessagePassing
import TensorCore

/// The collective steps of data-parallel training (see `Trainer`).
///
/// Each global batch of B rows (the single-process batch for this step, from
/// the (seed, epoch) order) is split into `size` contiguous shares of B/size
/// rows; process r takes rows [r·B/size, (r+1)·B/size). Each process's
/// gradient share is Σ over its rows / B, so their sum over processes is the
/// whole batch's mean gradient.
extension Trainer {
    /// Sums of batch statistics over the processes, for the flow's passes;
    /// a failure is kept in `collectiveFailure` and thrown after the pass.
    func batchShard() -> BatchShard {
        BatchShard(globalBatch: configuration.batchSize) { [unowned self] values in
            guard collectiveFailure == nil else { return }
            do { try communicator.allreduce(values) } catch { collectiveFailure = error }
        }
    }

    /// 4 MiB of float32 gradient: the reference flow's blocks (38 MB each)
    /// go one by one, the small flow's (2.7 MB) two by two; the latency of
    /// one more reduction is tens of microseconds.
    public static let defaultGradientBucketElements = 1 << 20

    /// Sums the gradient shares over the processes: with `overlap`, waits for
    /// the buckets it started during backward and the rest; without, reduces
    /// the whole buffer now (in `Communicator.bucketElements` buckets).
    func sumGradientsOverProcesses(_ overlap: OverlappedGradientSum?) throws {
        try overlap?.finish()
        if let failure = collectiveFailure { throw failure }
        if overlap == nil {
            try communicator.allreduce(UnsafeMutableBufferPointer(start: gradients.pointer, count: gradients.count))
        }
    }

    /// The root's `value` on every process.
    func sharedFromRoot(_ value: Double) throws -> Double {
        var shared = [value]
        try communicator.broadcast(&shared)
        return shared[0]
    }

    /// Whether `flag` holds on any process (so that all stop at the same step).
    func anyProcess(_ flag: Bool) throws -> Bool {
        guard communicator.usesMPI else { return flag }
        var value = [flag ? 1.0 : 0.0]
        try communicator.allreduce(&value, .maximum)
        return value[0] > 0
    }

    /// A 64-bit FNV-1a digest of the parameters, BatchNorm buffers and
    /// optimiser moments, bit by bit: equal digests mean identical replicas.
    public func stateDigest() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for buffer in [flow.parameters, flow.buffers, optimizer.firstMoment, optimizer.secondMoment,
                       optimizer.maxSecondMoment] {
            for i in 0..<buffer.count {
                hash = (hash ^ UInt64(buffer.pointer[i].bitPattern)) &* 0x0000_0100_0000_01b3
            }
        }
        return hash
    }

    /// Whether every process holds bit-identical parameters, buffers and
    /// moments (the answer is on every process).
    public func replicasAreIdentical() throws -> Bool {
        let digest = Int64(bitPattern: stateDigest())
        let all = try communicator.gather([digest]) ?? []
        var identical = [all.allSatisfy { $0 == all.first } ? 1.0 : 0.0]
        try communicator.broadcast(&identical)
        return identical[0] == 1
    }
}
