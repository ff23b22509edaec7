import XCTest
import Formats
@testable import Net2Net
import TensorCore

/// `net2net train --distributed` end to end: checkpoints written by rank 0,
/// a run whose rank was killed resumes to the parameters of an uninterrupted
/// run, and errors (an uneven batch, no MPI library) end the job with a message.
final class DistributedCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = temporaryDirectory(name)
        try writeGaussianPairs(300, into: directory)
        try checkpointEveryStepYAML.write(to: directory.appendingPathComponent("run.yaml"), atomically: true, encoding: .utf8)
    }

    func train(_ output: String, _ extra: [String]) -> [String] {
        ["train", "--distributed", "--config", "run.yaml", "--condition", "c.npy", "--target", "z.npy",
         "--output-dir", output] + extra
    }

    func parameters(_ output: String) throws -> [Float] {
        let flow = try FlowCheckpoint.load(directory.appendingPathComponent("\(output)/last")).flow
        return Array(UnsafeBufferPointer(start: flow.parameters.pointer, count: flow.parameters.count))
    }

    /// The step of `output`'s last checkpoint (from its generation's name, step-NNNNNNNN-…).
    func lastStep(_ output: String) throws -> Int {
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("\(output)/last").path)
        let name = URL(fileURLWithPath: target).lastPathComponent
        return try XCTUnwrap(Int(name.split(separator: "-")[1]), name)
    }

    func testResumesAfterAKilledRank() throws {
        _ = try MPIJob.requireLauncher()
        let log = directory.appendingPathComponent("killed.log")
        let job = try MPIJob.start(processes: 2, train("killed", []), in: directory, log: log)
        let deadline = Date().addingTimeInterval(30)
        while (try? lastStep("killed")).map({ $0 < 5 }) ?? true, job.isRunning, Date() < deadline { usleep(20_000) }
        let ranks = MPIJob.ranks(of: job)
        XCTAssertEqual(ranks.count, 2, "ranks of mpirun \(job.processIdentifier)")
        kill(try XCTUnwrap(ranks.max()), SIGKILL)
        job.waitUntilExit()
        XCTAssertNotEqual(job.terminationStatus, 0, "a job with a killed rank ends in failure")
        let killedAt = try lastStep("killed")
        XCTAssertGreaterThanOrEqual(killedAt, 5)
        let end = killedAt + 7
        let resumed = try MPIJob.run(processes: 2, train("killed", ["--resume", "--steps", String(end)]), in: directory)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step \(killedAt)"), resumed.stderr)
        let uninterrupted = try MPIJob.run(processes: 2, train("whole", ["--steps", String(end)]), in: directory)
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.stderr)
        XCTAssertEqual(try lastStep("killed"), end)
        XCTAssertEqual(try parameters("killed"), try parameters("whole"), "resumed and uninterrupted runs, bit for bit")
    }

    func testUnevenBatchEndsTheJobWithAMessage() throws {
        _ = try MPIJob.requireLauncher()
        let result = try MPIJob.run(processes: 4, train("uneven", ["--steps", "2", "--set", "batch_size=30"]), in: directory)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("batch_size 30 does not split evenly over 4 processes"), result.stderr)
    }

    /// Without an MPI library (here: a wrong NET2NET_MPI) --distributed is a clear error; no mpirun needed.
    func testMissingMPILibraryIsAClearError() throws {
        try CLI.requireExecutable()
        let result = try CLI.run(train("none", ["--steps", "2"]), in: directory,
                                 environment: ["NET2NET_MPI": "libmpi-that-does-not-exist.so"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("MPI is not available") && result.stderr.contains("libmpi-that-does-not-exist.so"),
                      result.stderr)
    }
}
