import Foundation
import MessagePassing

/// Every collective of `Communicator` on known values (`net2net
/// distributed-check --case communicator`); every process runs it, rank 0
/// gets the report.
public enum CommunicatorCheck {
    public struct Report: Sendable, Codable {
        public var size: Int
        /// Each rank's number, gathered in rank order.
        public var ranks: [Int]
        /// What every rank received from a broadcast by the last rank ([1.5, −2, 3.25]), gathered.
        public var broadcasts: [Float]
        /// 2500 values (rank + 1)·(i + 1) summed in buckets: the largest error against n(n+1)/2·(i + 1),
        /// the first three sums, and each rank's total of the sums.
        public var sumError: Float
        public var sumFirst: [Float]
        public var sumTotals: [Double]
        public var bucketElements: Int
        /// Means of (rank, 2·rank) and maxima of (rank, −rank).
        public var means: [Float]
        public var maxima: [Double]
        /// Rank r's r + 1 copies of r, gathered.
        public var gathered: [Int]
        /// The error of a broadcast from a root that is not a rank ("none" if none was raised).
        public var error: String
        /// Nonblocking: the same 2500 sums started with MPI_Iallreduce (one
        /// request per bucket) together with maxima of (rank, −rank), a
        /// barrier while they are in flight, MPI_Testall until done: the
        /// largest error of the sums, the first three, and the maxima.
        public var nonblockingSumError: Float
        public var nonblockingSumFirst: [Float]
        public var nonblockingMaxima: [Double]
        /// Whether `wait` on a completed request returns at once, and the
        /// error of starting a nonblocking mean (which needs a scale after the sum).
        public var waitOnCompleted: Bool
        public var nonblockingError: String
    }

    public static func run(_ communicator: Communicator) throws -> Report? {
        let n = communicator.size, rank = communicator.rank
        try communicator.barrier()
        let ranks = try communicator.gather([Int64(rank)])
        var broadcast: [Float] = rank == n - 1 ? [1.5, -2, 3.25] : [0, 0, 0]
        try communicator.broadcast(&broadcast, root: n - 1)
        let broadcasts = try communicator.gather(broadcast)
        var sums = (0..<2500).map { Float((rank + 1) * ($0 + 1)) }
        try communicator.allreduce(&sums)
        let expected = Float(n * (n + 1) / 2)
        let sumError = sums.indices.map { abs(sums[$0] - expected * Float($0 + 1)) }.max() ?? 0
        let totals = try communicator.gather([Double(sums.reduce(0, +))])
        var means: [Float] = [Float(rank), Float(2 * rank)]
        try means.withUnsafeMutableBufferPointer { try communicator.allreduceMean($0) }
        var maxima: [Double] = [Double(rank), -Double(rank)]
        try communicator.allreduce(&maxima, .maximum)
        let gathered = try communicator.gather([Int64](repeating: Int64(rank), count: rank + 1))
        var errorText = "none"
        do {
            var value: [Float] = [0]
            try communicator.broadcast(&value, root: n)
        } catch let error as CommunicatorError {
            errorText = error.localizedDescription
        }
        let nonblocking = try nonblockingReductions(communicator)
        guard communicator.isRoot else { return nil }
        return Report(size: n, ranks: (ranks ?? []).map(Int.init), broadcasts: broadcasts ?? [], sumError: sumError,
                      sumFirst: Array(sums.prefix(3)), sumTotals: totals ?? [], bucketElements: communicator.bucketElements,
                      means: means, maxima: maxima, gathered: (gathered ?? []).map(Int.init), error: errorText,
                      nonblockingSumError: nonblocking.sumError, nonblockingSumFirst: nonblocking.sumFirst,
                      nonblockingMaxima: nonblocking.maxima, waitOnCompleted: nonblocking.waitOnCompleted,
                      nonblockingError: nonblocking.error)
    }

    private static func nonblockingReductions(_ communicator: Communicator) throws
        -> (sumError: Float, sumFirst: [Float], maxima: [Double], waitOnCompleted: Bool, error: String) {
        let n = communicator.size, rank = communicator.rank
        let sums = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2500)
        let maxima = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2)
        defer { sums.deallocate(); maxima.deallocate() }
        for i in sums.indices { sums[i] = Float((rank + 1) * (i + 1)) }
        maxima[0] = Double(rank); maxima[1] = -Double(rank)
        var requests = [try communicator.startAllreduce(sums), try communicator.startAllreduce(maxima, .maximum)]
        try communicator.barrier()
        while !(try communicator.testAll(&requests)) {}
        var completed = requests[0]
        try communicator.wait(&completed)
        let expected = Float(n * (n + 1) / 2)
        let sumError = sums.indices.map { abs(sums[$0] - expected * Float($0 + 1)) }.max() ?? 0
        var errorText = "none"
        do {
            var request = try communicator.startAllreduce(sums, .mean)
            try communicator.wait(&request)
        } catch let error as CommunicatorError {
            errorText = error.localizedDescription
        }
        return (sumError, Array(sums.prefix(3)), Array(maxima), completed.isComplete && requests.allSatisfy(\.isComplete),
                errorText)
    }
}
