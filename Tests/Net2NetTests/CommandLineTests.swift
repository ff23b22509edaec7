import XCTest
import Experts
import Formats
@testable import Net2Net
import TensorCore

/// Runs the `net2net` executable built next to the test bundle.
struct CLI {
    static var executable: URL {
        var directory = Bundle(for: TrainingTests.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("net2net").path) {
            directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/release")
        }
        return directory.appendingPathComponent("net2net")
    }

    /// Fails and skips the test when the executable has not been built.
    static func requireExecutable() throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            XCTFail("the net2net executable is not built at \(executable.path); run scripts/test, which builds it first")
            throw XCTSkip("no executable")
        }
    }

    /// Runs net2net in `directory`; `environment` sets (or, with nil, removes) variables.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, threads: Bool = true,
                    environment: [String: String?] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + (threads ? ["--threads", "1"] : [])
        process.currentDirectoryURL = directory
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            process.environment = merged
        }
        return try capture(process)
    }

    /// Runs `process` to its end; its status, stdout and stderr.
    static func capture(_ process: Process) throws -> (status: Int32, stdout: String, stderr: String) {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

extension XCTestCase {
    /// Fails unless the command failed with `error: …` on stderr mentioning every one of `words`, without a crash.
    func assertFails(_ result: (status: Int32, stdout: String, stderr: String), mentioning words: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "expected failure; stderr: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("error: "), "stderr: \(result.stderr)", file: file, line: line)
        for word in words {
            XCTAssertTrue(result.stderr.contains(word), "'\(word)' not in: \(result.stderr)", file: file, line: line)
        }
        XCTAssertFalse(result.stderr.contains("Fatal error"), file: file, line: line)
    }
}

/// A CPU-sized flow for the command-line tests (YAML keys; add the loop's).
let smallFlowYAML = """
    hidden_dim: 16
    n_flows: 2
    embedding_dim: 4
    conditioning_hidden_dim: 8
    batch_size: 32

    """

/// Writes `rows` pairs of a 3-d → 4-d conditional Gaussian as `c.npy` and
/// `z.npy` into `directory`; returns the pairs.
@discardableResult
func writeGaussianPairs(_ rows: Int, into directory: URL) throws -> (condition: Tensor, target: Tensor) {
    let pairs = ConditionalGaussian(dimension: 4, conditionDimension: 3, seed: 1).pairs(rows, seed: 1)
    try NPY.write(pairs.condition, to: directory.appendingPathComponent("c.npy"))
    try NPY.write(pairs.target, to: directory.appendingPathComponent("z.npy"))
    return (pairs.condition, pairs.target)
}

final class CommandLineTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
        let pairs = try writeGaussianPairs(300, into: directory)
        try NPY.write(pairs.condition.rows(0..<1), to: directory.appendingPathComponent("c1.npy"))
        try (smallFlowYAML + """
        steps: 6
        checkpoint_every: 3
        """).write(to: directory.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
    }

    func train(_ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try CLI.run(["train", "--config", "small.yaml", "--condition", "c.npy", "--target", "z.npy",
                     "--output-dir", "run"] + extra, in: directory)
    }

    func testTrainSampleTranslateEvalEndToEnd() throws {
        let trained = try train()
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stderr.contains("step 6/6"), trained.stderr)
        let sampled = try CLI.run(["sample", "--checkpoint", "run", "--condition", "c1.npy", "--count", "5",
                                   "--output", "s.npy", "--seed", "3"], in: directory)
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        XCTAssertEqual(try NPY.readFloat32(directory.appendingPathComponent("s.npy")).shape, [5, 4])
        let translated = try CLI.run(["translate", "--checkpoint", "run", "--target", "z.npy", "--from", "c.npy",
                                      "--to", "c1.npy", "--output", "t.npy"], in: directory)
        XCTAssertEqual(translated.status, 0, translated.stderr)
        XCTAssertEqual(try NPY.readFloat32(directory.appendingPathComponent("t.npy")).shape, [300, 4])
        // The library names its parameter (`from`); the command line names the flag.
        assertFails(try CLI.run(["translate", "--checkpoint", "run", "--target", "z.npy", "--from", "c1.npy",
                                 "--to", "c1.npy", "--output", "t.npy"], in: directory),
                    mentioning: ["--from: has 1 rows but the target has 300"])
        let evaluated = try CLI.run(["eval", "--checkpoint", "run", "--condition", "c.npy", "--target", "z.npy", "--json"],
                                    in: directory)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(object["n"] as? Int, 300)
        let nll = try XCTUnwrap(object["nll"] as? Double)
        let perDim = try XCTUnwrap(object["nats_per_dim"] as? Double)
        XCTAssertEqual(nll / 4, perDim, accuracy: 1e-9)
        // eval agrees with the library on the same checkpoint.
        let flow = try FlowCheckpoint.load(directory.appendingPathComponent("run")).flow
        let expected = Evaluation.natsPerDimension(flow: flow, target: try NPY.readFloat32(directory.appendingPathComponent("z.npy")),
                                                   condition: try NPY.readFloat32(directory.appendingPathComponent("c.npy")))
        XCTAssertEqual(perDim, expected.natsPerDimension, accuracy: 1e-6)
    }

    func testResumeFromTheCommandLine() throws {
        XCTAssertEqual(try train(["--steps", "3"]).status, 0)
        assertFails(try train(), mentioning: ["already holds a checkpoint", "--resume"])
        let resumed = try train(["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 3"), resumed.stderr)
        // `run` alone reads the best validation step, which may come before the end.
        XCTAssertEqual(try FlowCheckpoint.load(directory.appendingPathComponent("run/last")).step, 6)
    }

    func testBadInputGivesClearErrors() throws {
        let d = directory!
        // Mismatched N.
        try NPY.write(Tensor(zeros: [10, 3]), to: d.appendingPathComponent("c10.npy"))
        assertFails(try CLI.run(["train", "--config", "small.yaml", "--condition", "c10.npy", "--target", "z.npy",
                                 "--output-dir", "r1"], in: d), mentioning: ["c10.npy", "10 rows", "300"])
        // NaN in the data.
        var bad = try NPY.readFloat32(d.appendingPathComponent("z.npy"))
        bad[7, 2] = .nan
        try NPY.write(bad, to: d.appendingPathComponent("nan.npy"))
        assertFails(try CLI.run(["train", "--config", "small.yaml", "--condition", "c.npy", "--target", "nan.npy",
                                 "--output-dir", "r2"], in: d), mentioning: ["nan.npy", "row 7", "finite"])
        // Missing, empty and truncated files.
        assertFails(try CLI.run(["train", "--config", "small.yaml", "--condition", "nope.npy", "--target", "z.npy",
                                 "--output-dir", "r3"], in: d), mentioning: ["nope.npy"])
        _ = FileManager.default.createFile(atPath: d.appendingPathComponent("empty.npy").path, contents: Data())
        assertFails(try CLI.run(["train", "--config", "small.yaml", "--condition", "empty.npy", "--target", "z.npy",
                                 "--output-dir", "r4"], in: d), mentioning: ["empty.npy", "empty"])
        let whole = try Data(contentsOf: d.appendingPathComponent("z.npy"))
        try whole.prefix(whole.count - 100).write(to: d.appendingPathComponent("short.npy"))
        assertFails(try CLI.run(["train", "--config", "small.yaml", "--condition", "c.npy", "--target", "short.npy",
                                 "--output-dir", "r5"], in: d), mentioning: ["short.npy", "truncated"])
        // A checkpoint that does not fit the data.
        XCTAssertEqual(try train().status, 0)
        try NPY.write(Tensor(zeros: [5, 6]), to: d.appendingPathComponent("z6.npy"))
        assertFails(try CLI.run(["eval", "--checkpoint", "run", "--condition", "c.npy", "--target", "z6.npy"], in: d),
                    mentioning: ["z6.npy", "6 features", "4"])
        assertFails(try CLI.run(["sample", "--checkpoint", "run", "--condition", "z6.npy", "--output", "x.npy"], in: d),
                    mentioning: ["[N, 3]"])
        // A corrupt and a missing checkpoint.
        let flowFile = d.appendingPathComponent("run/last/flow.safetensors")
        let bytes = try Data(contentsOf: flowFile)
        try bytes.prefix(bytes.count / 2).write(to: d.appendingPathComponent("half.safetensors"))
        assertFails(try CLI.run(["eval", "--checkpoint", "half.safetensors", "--condition", "c.npy", "--target", "z.npy"], in: d),
                    mentioning: ["half.safetensors"])
        assertFails(try CLI.run(["sample", "--checkpoint", "nowhere", "--condition", "c.npy", "--output", "x.npy"], in: d),
                    mentioning: ["nowhere", "no such file"])
        // An unknown configuration key.
        assertFails(try train(["--set", "hiden_dim=3"]), mentioning: ["unknown key 'hiden_dim'"])
    }

    /// `--help`, `-h` and `help COMMAND` print the command's help on stdout and
    /// exit 0, for the root and for every subcommand.
    /// `bench --cases` names a suite's own cases, or is refused where a suite has no choice:
    /// an argument error (ArgumentParser's `Error: …` and usage, status 64) before anything runs.
    func testBenchCasesAreCheckedBeforeAnythingRuns() throws {
        let checks: [([String], [String])] = [
            (["--suite", "gan", "--cases", "decode-b3"], ["unknown case 'decode-b3'", "decode-b1", "decode-b64"]),
            (["--suite", "vae", "--cases", "train-small-b128"], ["unknown case 'train-small-b128'", "vae-train-b64"]),
            (["--suite", "efficientnet", "--cases", "decode-b1"], ["unknown case 'decode-b1'", "encode-b16"]),
            (["--suite", "text", "--cases", "embed-b1"], ["text suite always runs all of its cases"]),
        ]
        for (arguments, words) in checks {
            let result = try CLI.run(["bench"] + arguments, in: directory)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stdout.isEmpty, "\(arguments) ran before refusing: \(result.stdout)")
            for word in words { XCTAssertTrue(result.stderr.contains(word), "\(arguments): \(result.stderr)") }
        }
    }

    func testHelpForEveryCommand() throws {
        let commands = ["assets", "encode", "decode", "autoencoder", "classifier", "experiment", "eval-experiment",
                        "train", "sample", "translate", "eval", "import", "demo", "serve", "bench", "doctor", "inspect"]
        let root = try CLI.run(["--help"], in: directory, threads: false)
        XCTAssertEqual(root.status, 0, root.stderr)
        XCTAssertTrue(root.stdout.contains("USAGE: net2net"), root.stdout)
        for command in commands {
            XCTAssertTrue(root.stdout.contains(command), "\(command) not listed in the root help")
            for arguments in [[command, "--help"], [command, "-h"], ["help", command]] {
                let result = try CLI.run(arguments, in: directory, threads: false)
                let shown = arguments.joined(separator: " ")
                XCTAssertEqual(result.status, 0, "\(shown): \(result.stderr)")
                XCTAssertTrue(result.stdout.contains("USAGE: net2net \(command)"), "\(shown): \(result.stdout)\(result.stderr)")
                XCTAssertFalse(result.stderr.contains("error"), "\(shown): \(result.stderr)")
            }
        }
    }

    func testInspectListsTensors() throws {
        XCTAssertEqual(try train().status, 0)
        let checkpoint = try CLI.run(["inspect", "run/last/flow.safetensors"], in: directory, threads: false)
        XCTAssertEqual(checkpoint.status, 0, checkpoint.stderr)
        XCTAssertTrue(checkpoint.stdout.contains("blocks.1.coupling.s0.layers.0.weight"), checkpoint.stdout)
        XCTAssertTrue(checkpoint.stdout.contains("[16, 6]"), checkpoint.stdout)   // [H, d/2 + E]
        let array = try CLI.run(["inspect", "z.npy"], in: directory, threads: false)
        XCTAssertEqual(array.status, 0, array.stderr)
        XCTAssertTrue(array.stdout.contains("[300, 4]"), array.stdout)
        let pytorch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FormatsTests/Fixtures")
        let zip = try CLI.run(["inspect", pytorch.appendingPathComponent("checkpoint_zip.pth").path], in: directory, threads: false)
        XCTAssertEqual(zip.status, 0, zip.stderr)
        XCTAssertTrue(zip.stdout.contains("netG_state_dict.main.0.weight"), zip.stdout)
        assertFails(try CLI.run(["inspect", pytorch.appendingPathComponent("hostile_os_system_zip.pth").path], in: directory, threads: false),
                    mentioning: ["hostile_os_system_zip.pth", "system"])
        try Data("hello".utf8).write(to: directory.appendingPathComponent("note.txt"))
        assertFails(try CLI.run(["inspect", "note.txt"], in: directory, threads: false), mentioning: ["note.txt"])
    }

    func testEncodeText() throws {
        let d = directory!
        try Data("A man is playing a guitar.\r\nSomeone plays the guitar.\n   \nThe stock market fell today.\n".utf8)
            .write(to: d.appendingPathComponent("s.txt"))
        let encoded = try CLI.run(["encode", "--expert", "minilm", "--input", "s.txt", "--output", "e.npy"], in: d)
        if encoded.status != 0 && encoded.stderr.contains("could not fetch asset") {
            throw XCTSkip("the MiniLM asset cannot be fetched here: \(encoded.stderr)")
        }
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let e = try NPY.readFloat32(d.appendingPathComponent("e.npy"))
        XCTAssertEqual(e.shape, [4, 384])
        func cosine(_ a: Int, _ b: Int) -> Float { (0..<384).reduce(0) { $0 + e[a, $1] * e[b, $1] } }
        XCTAssertGreaterThan(cosine(0, 1), 0.6)
        XCTAssertLessThan(cosine(0, 3), 0.2)
        // An empty file gives [0, 384].
        try Data().write(to: d.appendingPathComponent("empty.txt"))
        XCTAssertEqual(try CLI.run(["encode", "--expert", "minilm", "--input", "empty.txt", "--output", "z.npy"], in: d).status, 0)
        XCTAssertEqual(try NPY.readFloat32(d.appendingPathComponent("z.npy")).shape, [0, 384])
        // Invalid UTF-8 names the line.
        try Data([0x6f, 0x6b, 0x0a, 0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a]).write(to: d.appendingPathComponent("bad.txt"))
        assertFails(try CLI.run(["encode", "--expert", "minilm", "--input", "bad.txt", "--output", "b.npy"], in: d),
                    mentioning: ["bad.txt", "line 2", "UTF-8"])
        assertFails(try CLI.run(["encode", "--expert", "resnet", "--input", "s.txt", "--output", "b.npy"], in: d),
                    mentioning: ["unknown expert 'resnet'"])
        assertFails(try CLI.run(["encode", "--expert", "minilm", "--input", "nothing.txt", "--output", "b.npy"], in: d),
                    mentioning: ["nothing.txt", "no such file"])
    }

    /// `encode --expert mpnet`: 768-d unit rows, paraphrases closer than
    /// unrelated sentences, the same rows as the library's MPNet expert.
    func testEncodeTextWithMPNet() throws {
        let d = directory!
        let sentences = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell today."]
        try Data(sentences.joined(separator: "\n").utf8).write(to: d.appendingPathComponent("s.txt"))
        let encoded = try CLI.run(["encode", "--expert", "mpnet", "--input", "s.txt", "--output", "e.npy"], in: d)
        if encoded.status != 0 && encoded.stderr.contains("could not fetch asset") {
            throw XCTSkip("the MPNet asset cannot be fetched here: \(encoded.stderr)")
        }
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let e = try NPY.readFloat32(d.appendingPathComponent("e.npy"))
        XCTAssertEqual(e.shape, [3, 768])
        func dot(_ a: Int, _ b: Int) -> Float { (0..<768).reduce(0) { $0 + e[a, $1] * e[b, $1] } }
        for row in 0..<3 { XCTAssertEqual(dot(row, row), 1, accuracy: 1e-5) }
        XCTAssertGreaterThan(dot(0, 1), dot(0, 2) + 0.3)
        let library = try MPNetTextExpert(store: AssetStore()).embed(sentences)
        XCTAssertLessThanOrEqual(zip(library.scalars, e.scalars).map { abs($0 - $1) }.max()!, 1e-6)
    }

    func testEncodeImages() throws {
        let d = directory!
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ExpertsTests/Fixtures")
        let images = fixtures.appendingPathComponent("efficientnet_images.npy").path
        let result = try CLI.run(["encode", "--expert", "efficientnet-lite0", "--input", images,
                                  "--input", fixtures.appendingPathComponent("gray.png").path,
                                  "--output", "z.npy", "--layer", "logits", "--top", "2", "--batch-size", "3"], in: d)
        if result.status != 0 && result.stderr.contains("could not fetch asset") {
            throw XCTSkip("the EfficientNet asset cannot be fetched here: \(result.stderr)")
        }
        XCTAssertEqual(result.status, 0, result.stderr)
        let logits = try NPY.readFloat32(d.appendingPathComponent("z.npy"))
        XCTAssertEqual(logits.shape, [5, 1000])
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].contains("[0]: Egyptian cat ("), String(lines[0]))
        XCTAssertTrue(lines[1].contains("[1]: espresso ("), String(lines[1]))
        let features = try CLI.run(["encode", "--expert", "efficientnet-lite0", "--input", images, "--output", "f.npy"], in: d)
        XCTAssertEqual(features.status, 0, features.stderr)
        XCTAssertEqual(try NPY.readFloat32(d.appendingPathComponent("f.npy")).shape, [4, 1280])
        try Data("text".utf8).write(to: d.appendingPathComponent("photo.jpg"))
        assertFails(try CLI.run(["encode", "--expert", "efficientnet-lite0", "--input", "photo.jpg", "--output", "f.npy"], in: d),
                    mentioning: ["photo.jpg", "not a PNG file"])
        assertFails(try CLI.run(["encode", "--expert", "efficientnet-lite0", "--input", images, "--output", "f.npy",
                                 "--layer", "pool5"], in: d),
                    mentioning: ["--layer"])
    }

    func testDecodeFaces() throws {
        let d = directory!
        var g = SeededGenerator(seed: 4)
        try NPY.write(g.normalTensor([3, 100]), to: d.appendingPathComponent("z.npy"))
        let decoded = try CLI.run(["decode", "--expert", "dcgan-faces", "--input", "z.npy", "--output", "faces.npy"], in: d)
        if decoded.status != 0 && decoded.stderr.contains("could not fetch asset") {
            throw XCTSkip("the DCGAN asset cannot be fetched here: \(decoded.stderr)")
        }
        XCTAssertEqual(decoded.status, 0, decoded.stderr)
        let faces = try NPY.readFloat32(d.appendingPathComponent("faces.npy"))
        XCTAssertEqual(faces.shape, [3, 3, 64, 64])
        XCTAssertTrue(faces.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        let grid = try CLI.run(["decode", "--expert", "dcgan-faces", "--random", "5", "--seed", "2", "--columns", "3",
                                "--output", "faces.png"], in: d)
        XCTAssertEqual(grid.status, 0, grid.stderr)
        let png = try PNGImage.read(d.appendingPathComponent("faces.png"))
        XCTAssertEqual([png.width, png.height], [3 * 64 + 4 * 2, 2 * 64 + 3 * 2])
        try NPY.write(Tensor(zeros: [2, 64]), to: d.appendingPathComponent("z64.npy"))
        assertFails(try CLI.run(["decode", "--expert", "dcgan-faces", "--input", "z64.npy", "--output", "f.npy"], in: d),
                    mentioning: ["z64.npy", "[N, 100]"])
        assertFails(try CLI.run(["decode", "--expert", "stylegan", "--input", "z.npy", "--output", "f.npy"], in: d),
                    mentioning: ["unknown generator 'stylegan'", "biggan"])
    }
}
