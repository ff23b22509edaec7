import XCTest
import Flow
import Formats
import Layers
@testable import Net2Net
import TensorCore

/// Hostile checkpoints, counts and data: each is a clean error (or warning)
/// before anything large is allocated or trained.
final class CheckpointValidationTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = temporaryDirectory(name)
        let pairs = try writeGaussianPairs(200, into: directory)
        try Trainer(configuration: smallSettings(steps: 3), data: try PairDataset(condition: pairs.condition, target: pairs.target),
                    outputDirectory: directory.appendingPathComponent("run")).run()
    }

    /// A copy of the trained flow file whose architecture metadata has `key` set to `value`; the tensors are unchanged.
    func checkpoint(setting key: String, to value: Int) throws -> String {
        let source = try SafeTensorsFile(contentsOf: CheckpointDirectory.file(FlowCheckpoint.flowFile, at: directory.appendingPathComponent("run")))
        var config = try JSONSerialization.jsonObject(with: Data(source.metadata["config"]!.utf8)) as! [String: Any]
        XCTAssertNotNil(config[key], key)
        config[key] = value
        var metadata = source.metadata
        metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        let tensors: [(name: String, value: SafeTensorValue)] = try source.names.map { name in
            source.info(name)!.dtype == "I64" ? (name, .int64(try source.int64(name), shape: source.info(name)!.shape))
                                              : (name, .float32(try source.tensor(name)))
        }
        let name = "\(key)-\(value)"
        try SafeTensorsFile.write(tensors, metadata: metadata, to: directory.appendingPathComponent("\(name)/flow.safetensors"))
        return name
    }

    func assertCommandsRefuse(_ checkpoint: String, mentioning words: [String],
                              file: StaticString = #filePath, line: UInt = #line) throws {
        for arguments in [["eval", "--checkpoint", checkpoint, "--condition", "c.npy", "--target", "z.npy"],
                          ["sample", "--checkpoint", checkpoint, "--condition", "c.npy", "--output", "s.npy"],
                          ["translate", "--checkpoint", checkpoint, "--target", "z.npy", "--from", "c.npy", "--to", "c.npy",
                           "--output", "t.npy"]] {
            let result = try CLI.run(arguments, in: directory)
            XCTAssertEqual(result.status, 1, "\(arguments[0]): \(result.stderr)", file: file, line: line)
            XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr, file: file, line: line)
            XCTAssertTrue(result.stderr.contains("/\(checkpoint)/flow.safetensors: "), result.stderr, file: file, line: line)
            for word in words { XCTAssertTrue(result.stderr.contains(word), "'\(word)' not in \(result.stderr)", file: file, line: line) }
        }
    }

    func testHugeArchitectureInTheHeaderIsRefusedBeforeAllocation() throws {
        // Beyond the architecture's bounds: refused from the metadata alone.
        for key in ["hidden_dim", "embedding_dim", "conditioning_dim", "hidden_depth", "conditioning_hidden_dim", "n_flows"] {
            try assertCommandsRefuse(try checkpoint(setting: key, to: 1_000_000_000), mentioning: [key, "at most"])
        }
        // Within the bounds but not what the tensors hold: refused by the shapes in the header, before the
        // parameters (hidden_dim 65536 would need 4·10⁹ of them per layer) are allocated.
        let cases = [("hidden_dim", 65_536, "blocks.0.coupling.s0.layers.0.weight"), ("embedding_dim", 65_536, "embedder"),
                     ("conditioning_dim", 1 << 20, "embedder.layers.0.weight"), ("hidden_depth", 64, "layers")]
        for (key, value, tensor) in cases {
            try assertCommandsRefuse(try checkpoint(setting: key, to: value), mentioning: [tensor, "the architecture needs"])
        }
    }

    /// A standardising flow whose stored deviation is 0 (a hand-edited or
    /// corrupt file) is refused by name rather than dividing by zero.
    func testNonPositiveConditionDeviationIsRefused() throws {
        var c = try FlowCheckpoint.load(directory.appendingPathComponent("run")).flow.configuration
        c.standardizesCondition = true
        let flow = ConditionalFlow(configuration: c, seed: 1)
        let std = try XCTUnwrap(flow.bufferLayout.entry("embedder.condition_std"))
        let good = directory.appendingPathComponent("standardized")
        try FlowCheckpoint.save(flow, to: good, step: 1)
        XCTAssertNoThrow(try FlowCheckpoint.load(good))
        flow.buffers.pointer[std.offset + 1] = 0
        let zero = directory.appendingPathComponent("zerostd")
        try FlowCheckpoint.save(flow, to: zero, step: 1)
        XCTAssertThrowsError(try FlowCheckpoint.load(zero)) { error in
            XCTAssertTrue(error.localizedDescription.contains("embedder.condition_std"), error.localizedDescription)
        }
        try assertCommandsRefuse("zerostd", mentioning: ["embedder.condition_std"])
    }

    func testNonFiniteCheckpointsAreNeverWrittenNorLoaded() throws {
        let run = directory.appendingPathComponent("run")
        let flow = try FlowCheckpoint.load(run).flow
        flow.parameters.pointer[3] = .nan
        try FlowCheckpoint.save(flow, to: directory.appendingPathComponent("nan"), step: 3)
        try assertCommandsRefuse("nan", mentioning: ["non-finite"])
        XCTAssertThrowsError(try FlowCheckpoint.load(directory.appendingPathComponent("nan")))

        // A trainer whose parameters became NaN refuses to checkpoint and keeps the last good one.
        let before = try Data(contentsOf: CheckpointDirectory.file(FlowCheckpoint.flowFile, at: run))
        var settings = try FlowCheckpoint.loadState(into: Adam(parameterCount: flow.parameters.count), from: run).configuration
        settings.steps = 6
        let pairs = ConditionalGaussian(dimension: 4, conditionDimension: 3, seed: 1).pairs(200, seed: 1)
        let trainer = try Trainer(configuration: settings, data: try PairDataset(condition: pairs.condition, target: pairs.target),
                                  outputDirectory: run, resume: true)
        trainer.flow.buffers.pointer[0] = .infinity
        XCTAssertThrowsError(try trainer.saveCheckpoint(to: run)) { error in
            XCTAssertTrue(error.localizedDescription.contains("non-finite"), error.localizedDescription)
        }
        XCTAssertEqual(try Data(contentsOf: CheckpointDirectory.file(FlowCheckpoint.flowFile, at: run)), before)
    }

    func testHugeCountsAreCleanErrors() throws {
        try NPY.write(Tensor(zeros: [1, 3]), to: directory.appendingPathComponent("c1.npy"))
        let flow = try FlowCheckpoint.load(directory.appendingPathComponent("run")).flow
        let most = SizeLimit.maximumValues / Translation.valuesPerSample(flow)
        XCTAssertEqual(Translation.valuesPerSample(flow), 2 * 4 + 3 + 8 + 2 * 16)
        for count in ["9223372036854775807", "10000000", String(most + 1)] {
            let result = try CLI.run(["sample", "--checkpoint", "run", "--condition", "c1.npy", "--count", count,
                                      "--output", "s.npy"], in: directory)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: count \(count) is too large"), result.stderr)
            XCTAssertTrue(result.stderr.contains("the most here is \(most)"), result.stderr)
        }
        // The limit itself is allowed (checked without drawing 1 GiB).
        XCTAssertNoThrow(try SizeLimit.check(count: most, valuesPerItem: Translation.valuesPerSample(flow), parameter: "count"))
        let decoded = try CLI.run(["decode", "--expert", "autoencoder", "--random", "9223372036854775807", "--output", "d.npy"],
                                  in: directory)
        XCTAssertEqual(decoded.status, 1, decoded.stderr)
        XCTAssertTrue(decoded.stderr.hasPrefix("error: --random 9223372036854775807 is too large"), decoded.stderr)
    }

    func testColumnsAreCheckedBeforeTraining() throws {
        let pairs = ConditionalGaussian(dimension: 4, conditionDimension: 3, seed: 1).pairs(200, seed: 1)
        var constant = pairs.target
        for row in 0..<200 { constant.scalars[row * 4 + 1] = 5 }
        try NPY.write(constant, to: directory.appendingPathComponent("constant.npy"))
        var large = pairs.condition
        large.scalars[7] = 3e7
        try NPY.write(large, to: directory.appendingPathComponent("large.npy"))
        var flat = pairs.condition
        for row in 0..<200 { flat.scalars[row * 3 + 2] = -1 }
        try NPY.write(flat, to: directory.appendingPathComponent("flat.npy"))
        var infinite = pairs.target
        infinite.scalars[9] = .infinity
        try NPY.write(infinite, to: directory.appendingPathComponent("infinite.npy"))
        func train(_ condition: String, _ target: String, steps: String = "1") throws -> (status: Int32, stdout: String, stderr: String) {
            try CLI.run(["train", "--condition", condition, "--target", target, "--output-dir", "out-\(condition)-\(target)",
                         "--set", "hidden_dim=8", "--set", "n_flows=1", "--set", "batch_size=16", "--steps", steps], in: directory)
        }
        let constantTarget = try train("c.npy", "constant.npy")
        XCTAssertEqual(constantTarget.status, 1)
        XCTAssertTrue(constantTarget.stderr.hasPrefix("error: "), constantTarget.stderr)
        XCTAssertTrue(constantTarget.stderr.contains("constant.npy: column 1 (5.0) has the same value in every row"), constantTarget.stderr)
        XCTAssertFalse(constantTarget.stderr.contains("step 1"), "training started: \(constantTarget.stderr)")
        let infiniteTarget = try train("c.npy", "infinite.npy")
        XCTAssertEqual(infiniteTarget.status, 1)
        XCTAssertTrue(infiniteTarget.stderr.contains("infinite.npy: contains inf at row 2, column 1"), infiniteTarget.stderr)
        // Warnings: training goes on.
        let warned = try train("large.npy", "z.npy")
        XCTAssertEqual(warned.status, 0, warned.stderr)
        XCTAssertTrue(warned.stderr.hasPrefix("warning: "), warned.stderr)
        XCTAssertTrue(warned.stderr.contains("large.npy: 1 column(s) hold values beyond 1000000.0"), warned.stderr)
        let flatCondition = try train("flat.npy", "z.npy")
        XCTAssertEqual(flatCondition.status, 0, flatCondition.stderr)
        XCTAssertTrue(flatCondition.stderr.contains("flat.npy: column 2 (-1.0) has the same value in every row and carries no information"),
                      flatCondition.stderr)
    }
}
