import XCTest
import Formats
@testable import Net2Net
import TensorCore

/// The small flow, checkpointing every step of an endless run at a constant
/// rate (runs that are compared end at a `--steps` of their own, and a decay
/// schedule is a function of `steps`); no validation split.
let checkpointEveryStepYAML = smallFlowYAML + """
    steps: 1000000
    checkpoint_every: 1
    log_every: 1000000
    validation_fraction: 0
    lr_decay: constant
    """

/// Kills `net2net train` at seeded random moments and checks that the
/// checkpoint directory survives every kill: it loads, samples, resumes
/// exactly, and collects no litter; SIGTERM checkpoints; a second writer is refused.
final class CheckpointKillTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
        let pairs = try writeGaussianPairs(300, into: directory)
        try NPY.write(pairs.condition.rows(0..<2), to: directory.appendingPathComponent("c2.npy"))
        // Small and checkpointing every step, so that most of a run's time is spent writing checkpoints.
        try checkpointEveryStepYAML.write(to: directory.appendingPathComponent("kill.yaml"), atomically: true, encoding: .utf8)
    }

    /// Starts `net2net train` into `output`; its stderr goes to `output.log`.
    func startTraining(_ output: String, _ extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["train", "--config", "kill.yaml", "--condition", "c.npy", "--target", "z.npy",
                             "--output-dir", output, "--threads", "1"] + extra
        process.currentDirectoryURL = directory
        let log = directory.appendingPathComponent("\(output).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return process
    }

    func log(_ output: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(output).log"), encoding: .utf8)) ?? ""
    }

    func hasCheckpoint(_ output: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(output)/last/flow.safetensors").path)
    }

    /// Waits (at most 20 s) until `output` holds a checkpoint.
    func waitForCheckpoint(_ output: String, of process: Process) {
        let deadline = Date().addingTimeInterval(20)
        while !hasCheckpoint(output) && process.isRunning && Date() < deadline { usleep(5_000) }
    }

    /// `eval` and `sample` work on `output` and give finite numbers.
    func assertLoadable(_ output: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let evaluated = try CLI.run(["eval", "--checkpoint", output, "--condition", "c.npy", "--target", "z.npy", "--json"],
                                    in: directory)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr, file: file, line: line)
        let json = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any]
        XCTAssertTrue((json?["nll"] as? Double)?.isFinite == true, evaluated.stdout, file: file, line: line)
        let sampled = try CLI.run(["sample", "--checkpoint", output, "--condition", "c2.npy", "--count", "3",
                                   "--output", "\(output)-samples.npy"], in: directory)
        XCTAssertEqual(sampled.status, 0, sampled.stderr, file: file, line: line)
        let samples = try NPY.readFloat32(directory.appendingPathComponent("\(output)-samples.npy"))
        XCTAssertEqual(samples.shape, [6, 4], file: file, line: line)
        XCTAssertTrue(samples.isFinite, file: file, line: line)
    }

    /// Entries of the run directory and of its generations folder.
    func entries(_ output: String) -> (top: [String], generations: [String]) {
        let run = directory.appendingPathComponent(output)
        let top = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
        let generations = (try? FileManager.default.contentsOfDirectory(
            atPath: run.appendingPathComponent(CheckpointDirectory.generationsFolder).path)) ?? []
        return (top.sorted(), generations.sorted())
    }

    func testSurvivesSIGKILLAtRandomMomentsAndResumesExactly() throws {
        var generator = SeededGenerator(seed: 20_240_611)
        var kills = 0, killsWithCheckpoint = 0, cycles = 0
        while kills < 21 {
            cycles += 1
            XCTAssertLessThan(cycles, 60, "training keeps exiting before it can be killed: \(log("run"))")
            if cycles >= 60 { return }
            let resuming = hasCheckpoint("run")
            let process = try startTraining("run", resuming ? ["--resume"] : [])
            // 10–260 ms: from start-up (data, lock, clean-up) through several checkpoint writes.
            usleep(10_000 + UInt32(generator.next() % 250_000))
            guard process.isRunning else {
                process.waitUntilExit()
                XCTFail("training exited with status \(process.terminationStatus) before the kill: \(log("run"))")
                return
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
            kills += 1
            let (top, generations) = entries("run")
            // What one killed writer can leave: one unpublished generation and one temporary link.
            XCTAssertLessThanOrEqual(generations.count, 2, "generations pile up: \(generations)")
            XCTAssertLessThanOrEqual(top.filter { $0.contains(".tmp-") }.count, 1, "temporaries pile up: \(top)")
            if hasCheckpoint("run") {
                killsWithCheckpoint += 1
                try assertLoadable("run")
            }
        }
        XCTAssertGreaterThanOrEqual(killsWithCheckpoint, 15, "too few kills landed after the first checkpoint")

        // Resume to a few steps past the last checkpoint; an uninterrupted run to the same step must agree bit for bit.
        let step = try FlowCheckpoint.load(directory.appendingPathComponent("run")).step
        XCTAssertGreaterThan(step, 20, "the killed runs made too little progress")
        let end = ["--steps", String(step + 3)]
        let resumed = try CLI.run(["train", "--config", "kill.yaml", "--condition", "c.npy", "--target", "z.npy",
                                   "--output-dir", "run", "--resume"] + end, in: directory)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let reference = try CLI.run(["train", "--config", "kill.yaml", "--condition", "c.npy", "--target", "z.npy",
                                     "--output-dir", "reference", "--set", "checkpoint_every=1000000"] + end, in: directory)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let a = try FlowCheckpoint.load(directory.appendingPathComponent("run"))
        let b = try FlowCheckpoint.load(directory.appendingPathComponent("reference"))
        XCTAssertEqual(a.step, step + 3)
        XCTAssertEqual(b.step, step + 3)
        XCTAssertEqual(a.flow.parameters.array(), b.flow.parameters.array(), "the resumed run's parameters differ")
        XCTAssertEqual(a.flow.buffers.array(), b.flow.buffers.array())
        for name in ["adam.exp_avg", "adam.exp_avg_sq", "adam.max_exp_avg_sq"] {
            let stateA = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("run/last/training_state.safetensors"))
            let stateB = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("reference/last/training_state.safetensors"))
            XCTAssertEqual(try stateA.tensor(name).scalars, try stateB.tensor(name).scalars, name)
        }
        // A finished run leaves exactly its lock, its slot and one generation.
        let (top, generations) = entries("run")
        XCTAssertEqual(top, [".lock", "checkpoints", "last"])
        XCTAssertEqual(generations.count, 1, "\(generations)")
    }

    func testSIGTERMWritesACheckpointAndExitsNonZero() throws {
        let process = try startTraining("run")
        waitForCheckpoint("run", of: process)
        XCTAssertTrue(process.isRunning, log("run"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "SIGTERM killed the process instead of stopping it")
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM)
        XCTAssertTrue(log("run").contains("interrupted by SIGTERM: checkpoint at step"), log("run"))
        try assertLoadable("run")
        XCTAssertEqual(entries("run").top, [".lock", "checkpoints", "last"])
        XCTAssertEqual(entries("run").generations.count, 1)
    }

    func testASecondWriterIsRefusedNamingTheFirst() throws {
        let first = try startTraining("run")
        defer { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() }
        waitForCheckpoint("run", of: first)
        XCTAssertTrue(first.isRunning, log("run"))
        for extra in [["--resume"], []] {
            let second = try CLI.run(["train", "--config", "kill.yaml", "--condition", "c.npy", "--target", "z.npy",
                                      "--output-dir", "run"] + extra, in: directory)
            XCTAssertNotEqual(second.status, 0)
            XCTAssertTrue(second.stderr.hasPrefix("error: "), second.stderr)
            XCTAssertTrue(second.stderr.contains("process \(first.processIdentifier)"), second.stderr)
            XCTAssertTrue(second.stderr.contains("/run"), second.stderr)
        }
        XCTAssertTrue(first.isRunning, "the first writer stopped: \(log("run"))")
    }
}
