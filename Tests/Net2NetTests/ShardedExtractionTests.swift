import XCTest
@testable import Net2Net

/// Frozen experts on a strided shard per process (ShardedRows): the result
/// equals one process's, row for row; a run with a killed rank leaves whole
/// chunks that the next run reuses; `experiment train --distributed` caches
/// its pairs for a later single-process run and for `experiment pairs`.
final class ShardedExtractionTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = temporaryDirectory(name)
    }

    func extraction(processes: Int, cache: String, _ extra: [String] = []) throws -> [String: Any] {
        try MPIJob.json(MPIJob.run(processes: processes, ["distributed-check", "--distributed", "--case", "extraction",
                                                          "--cache", cache] + extra, in: directory))
    }

    func testShardedEqualsOneProcessInOrder() throws {
        _ = try MPIJob.requireLauncher()
        for n in [2, 4] {
            let report = try extraction(processes: n, cache: "cache-\(n)")
            XCTAssertEqual(report["shape"] as? [Int], [300, 64])
            XCTAssertEqual(report["cached_chunks_before"] as? Int, 0)
            XCTAssertEqual(report["relative_error"] as? Double, 0, "N = \(n): the autoencoder's rows do not depend on their batch")
        }
    }

    func chunks(_ cache: String) -> [String] {
        let root = directory.appendingPathComponent(cache)
        return ((try? FileManager.default.subpathsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasSuffix(".npy") }
    }

    func testKilledRankLeavesAResumableCache() throws {
        _ = try MPIJob.requireLauncher()
        let job = try MPIJob.start(processes: 2, ["distributed-check", "--distributed", "--case", "extraction",
                                                  "--cache", "killed", "--chunk-delay", "400"],
                                   in: directory, log: directory.appendingPathComponent("killed.log"))
        let deadline = Date().addingTimeInterval(30)
        while chunks("killed").count < 2 && job.isRunning && Date() < deadline { usleep(20_000) }
        let ranks = MPIJob.ranks(of: job)
        XCTAssertEqual(ranks.count, 2)
        kill(try XCTUnwrap(ranks.max()), SIGKILL)
        job.waitUntilExit()
        XCTAssertNotEqual(job.terminationStatus, 0)
        let left = chunks("killed").count
        XCTAssertTrue((2..<5).contains(left), "\(left) chunks of 5 after the kill")
        let resumed = try extraction(processes: 2, cache: "killed")
        XCTAssertEqual(resumed["cached_chunks_before"] as? Int, left)
        XCTAssertEqual(resumed["relative_error"] as? Double, 0)
        XCTAssertEqual(chunks("killed").count, 5)
        let litter = (try FileManager.default.subpathsOfDirectory(atPath: directory.appendingPathComponent("killed").path))
            .filter { $0.contains(".tmp-") }
        XCTAssertEqual(litter, [])
    }

    /// label-to-image on 300 images: pairs built by two processes, then reused by one.
    func testExperimentTrainCachesItsPairs() throws {
        _ = try MPIJob.requireLauncher()
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/label-to-image.yaml").path
        let settings = ["--set", "train_images=300", "--set", "batch_size=16", "--set", "hidden_dim=32", "--set", "n_flows=2",
                        "--output-dir", "run"]
        let sharded = try MPIJob.run(processes: 2, ["experiment", "train", recipe, "--distributed", "--set", "steps=2"] + settings,
                                     in: directory)
        XCTAssertEqual(sharded.status, 0, sharded.stderr)
        XCTAssertEqual(chunks("run/pairs-cache").count, 1, "one chunk of 300 latents")
        let single = try CLI.run(["experiment", "train", recipe, "--resume", "--set", "steps=3"] + settings, in: directory)
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertTrue(single.stderr.contains("1 of 1 chunks cached"), single.stderr)
        XCTAssertTrue(single.stderr.contains("resuming at step 2"), single.stderr)
        let pairs = try CLI.run(["experiment", "pairs", recipe] + settings, in: directory)
        XCTAssertEqual(pairs.status, 0, pairs.stderr)
        XCTAssertTrue(pairs.stderr.contains("1 of 1 chunks cached") && pairs.stdout.contains("300 pairs"), pairs.stdout + pairs.stderr)
    }
}
