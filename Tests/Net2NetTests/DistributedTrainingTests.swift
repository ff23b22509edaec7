import XCTest
import Formats
@testable import Net2Net
import TensorCore

/// The MPI layer and data-parallel training, under mpirun with 2 and 4
/// processes on this machine (skipped where mpirun is missing): every
/// collective on known values, the summed gradient of a sharded batch
/// against one process's, losses and identical replicas for N = 1, 2, 4,
/// a run over TCP, the gradient sum overlapped with backward against one
/// allreduce after it, and `train --distributed` resumed after a killed rank.
final class DistributedTrainingTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = temporaryDirectory(name)
    }

    func check(_ arguments: [String], processes: Int, mca: [String] = []) throws -> [String: Any] {
        try MPIJob.json(MPIJob.run(processes: processes, ["distributed-check", "--distributed"] + arguments,
                                   in: directory, mca: mca))
    }

    func testCommunicatorCollectives() throws {
        _ = try MPIJob.requireLauncher()
        for n in [2, 4] {
            let report = try check(["--case", "communicator"], processes: n)
            XCTAssertEqual(report["size"] as? Int, n)
            XCTAssertEqual(report["ranks"] as? [Int], Array(0..<n))
            XCTAssertEqual(report["broadcasts"] as? [Double], (0..<n).flatMap { _ in [1.5, -2, 3.25] })
            // 2500 values in buckets of 1000: Σ_r (r + 1)·(i + 1) = n(n + 1)/2 · (i + 1).
            let k = Double(n * (n + 1) / 2)
            XCTAssertEqual(report["bucket_elements"] as? Int, 1000)
            XCTAssertEqual(report["sum_error"] as? Double, 0)
            XCTAssertEqual(report["sum_first"] as? [Double], [k, 2 * k, 3 * k])
            let totals = try XCTUnwrap(report["sum_totals"] as? [Double])
            XCTAssertEqual(totals, [Double](repeating: k * 2500 * 2501 / 2, count: n))
            XCTAssertEqual(report["means"] as? [Double], [Double(n - 1) / 2, Double(n - 1)])
            XCTAssertEqual(report["maxima"] as? [Double], [Double(n - 1), 0])
            XCTAssertEqual(report["gathered"] as? [Int], (0..<n).flatMap { [Int](repeating: $0, count: $0 + 1) })
            let error = try XCTUnwrap(report["error"] as? String)
            XCTAssertTrue(error.contains("MPI_Bcast failed") && error.contains("MPI_ERR_ROOT"), error)
            // The same sums and maxima started nonblocking (three requests for the sums), a barrier in between.
            XCTAssertEqual(report["nonblocking_sum_error"] as? Double, 0)
            XCTAssertEqual(report["nonblocking_sum_first"] as? [Double], [k, 2 * k, 3 * k])
            XCTAssertEqual(report["nonblocking_maxima"] as? [Double], [Double(n - 1), 0])
            XCTAssertEqual(report["wait_on_completed"] as? Bool, true)
            let nonblockingError = try XCTUnwrap(report["nonblocking_error"] as? String)
            XCTAssertTrue(nonblockingError.contains("nonblocking allreduce sums or takes maxima"), nonblockingError)
        }
    }

    func testSummedGradientSharesEqualTheWholeBatchGradient() throws {
        _ = try MPIJob.requireLauncher()
        for n in [2, 4] {
            let report = try check(["--case", "gradient", "--batch-size", "16"], processes: n)
            let gradientError = try XCTUnwrap(report["gradient_error"] as? Double)
            XCTAssertLessThanOrEqual(gradientError, 1e-5, "N = \(n)")
            XCTAssertLessThanOrEqual(try XCTUnwrap(report["state_error"] as? Double), 1e-5, "BatchNorm and ActNorm state, N = \(n)")
            let single = try XCTUnwrap(report["single_losses"] as? [Double])
            let sharded = try XCTUnwrap(report["sharded_losses"] as? [Double])
            XCTAssertEqual(single.count, 2)
            assertClose(sharded, single, relative: 1e-6)
        }
    }

    /// Losses of a 12-step run for N = 1 (no MPI), 2 and 4, and over TCP,
    /// the gradient summed block by block during backward.
    func testLossesDoNotDependOnTheProcessCount() throws {
        _ = try MPIJob.requireLauncher()
        let single = try MPIJob.json(CLI.run(["distributed-check", "--case", "training", "--steps", "12"], in: directory))
        let reference = try XCTUnwrap(single["losses"] as? [Double])
        XCTAssertEqual(reference.count, 12)
        let runs = [(2, [String]()), (4, []), (2, ["--mca", "btl", "tcp,self"])]
        for (n, mca) in runs {
            let report = try check(["--case", "training", "--steps", "12", "--gradient-bucket-elements", "1"],
                                   processes: n, mca: mca)
            XCTAssertEqual(report["replicas_identical"] as? Bool, true, "N = \(n) \(mca)")
            assertClose(try XCTUnwrap(report["losses"] as? [Double]), reference, relative: 1e-5)
        }
    }

    /// The gradient summed bucket by bucket during backward (each block's
    /// range as soon as backward leaves it: `--gradient-bucket-elements 1`)
    /// against one allreduce after backward (0). For N = 2 each element's sum
    /// is a + b however the buffer is cut, so the parameters, moments and
    /// losses must be bit-identical; for N = 4 MPI may associate a sum
    /// differently for other message sizes, so the losses are compared
    /// within 1e-6 and each run's replicas must agree.
    func testGradientSumOverlappedWithBackwardEqualsOneAllreduceAfterIt() throws {
        _ = try MPIJob.requireLauncher()
        for n in [2, 4] {
            let arguments = ["--case", "training", "--steps", "6", "--gradient-bucket-elements"]
            let after = try check(arguments + ["0"], processes: n)
            let overlapped = try check(arguments + ["1"], processes: n)
            let whole = try XCTUnwrap(after["gradient_buckets"] as? [[Int]])
            XCTAssertEqual(whole.count, 1, "N = \(n)")
            XCTAssertEqual(whole.first?.first, 0, "N = \(n)")
            // Three blocks, last to first, then the embedder: descending, contiguous, the whole buffer.
            let buckets = try XCTUnwrap(overlapped["gradient_buckets"] as? [[Int]])
            XCTAssertEqual(buckets.count, 4, "N = \(n): \(buckets)")
            XCTAssertEqual(buckets.first?.last, whole.first?.last, "N = \(n): \(buckets)")
            XCTAssertEqual(buckets.last?.first, 0, "N = \(n): \(buckets)")
            XCTAssertTrue(zip(buckets, buckets.dropFirst()).allSatisfy { $0[0] == $1[1] && $0[0] < $0[1] }, "\(buckets)")
            XCTAssertEqual(after["replicas_identical"] as? Bool, true, "N = \(n)")
            XCTAssertEqual(overlapped["replicas_identical"] as? Bool, true, "N = \(n)")
            let losses = try XCTUnwrap(after["losses"] as? [Double])
            XCTAssertEqual(losses.count, 6)
            if n == 2 {
                XCTAssertEqual(overlapped["state_digest"] as? String, after["state_digest"] as? String)
                XCTAssertEqual(overlapped["losses"] as? [Double], losses)
            } else {
                assertClose(try XCTUnwrap(overlapped["losses"] as? [Double]), losses, relative: 1e-6)
            }
        }
    }

    func assertClose(_ a: [Double], _ b: [Double], relative: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertLessThanOrEqual(abs(x - y), relative * max(abs(y), 1e-3), "\(a) vs \(b)", file: file, line: line)
        }
    }
}
