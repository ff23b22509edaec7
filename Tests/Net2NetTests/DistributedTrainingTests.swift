import XCTest
import Formats
@testable import Net2Net
import TensorCore

/// The MPI layer and data-parallel training, under mpirun with 2 and 4
/// processes on this machine (skipped where mpirun is missing): every
/// collective on known values, the summed gradient of a sharded batch
/// against one process's, losses and identical replicas for N = 1, 2, 4,
/// a run over TCP, and `train --distributed` resumed after a killed rank.
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

    /// Losses of a 12-step run for N = 1 (no MPI), 2 and 4, and over TCP.
    func testLossesDoNotDependOnTheProcessCount() throws {
        _ = try MPIJob.requireLauncher()
        let single = try MPIJob.json(CLI.run(["distributed-check", "--case", "training", "--steps", "12"], in: directory))
        let reference = try XCTUnwrap(single["losses"] as? [Double])
        XCTAssertEqual(reference.count, 12)
        let runs = [(2, [String]()), (4, []), (2, ["--mca", "btl", "tcp,self"])]
        for (n, mca) in runs {
            let report = try check(["--case", "training", "--steps", "12"], processes: n, mca: mca)
            XCTAssertEqual(report["replicas_identical"] as? Bool, true, "N = \(n) \(mca)")
            assertClose(try XCTUnwrap(report["losses"] as? [Double]), reference, relative: 1e-5)
        }
    }

    func assertClose(_ a: [Double], _ b: [Double], relative: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertLessThanOrEqual(abs(x - y), relative * max(abs(y), 1e-3), "\(a) vs \(b)", file: file, line: line)
        }
    }
}
