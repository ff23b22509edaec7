import XCTest
import Formats
@testable import Net2Net
import TensorCore

/// Every command against missing, unreadable, unwritable and wrong-type
/// paths: a non-zero exit, one `error: ` line naming the path, and never
/// Foundation's `Error Domain=…` text.
///
/// The tests run as root, for whom permission bits do not bite, so the bad
/// paths are ones that fail for root too: a path whose parent is a regular
/// file (ENOTDIR: unreadable and unwritable), a directory under /proc (the
/// kernel refuses to create anything there), an existing file where a
/// directory is wanted and a directory where a file is wanted.
final class CommandErrorTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
        try writeGaussianPairs(100, into: directory)
        try "a sentence\n".write(to: directory.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("folder.npy"), withIntermediateDirectories: true)
        let trained = try CLI.run(["train", "--condition", "c.npy", "--target", "z.npy", "--output-dir", "run", "--steps", "1",
                                   "--set", "hidden_dim=8", "--set", "n_flows=1", "--set", "batch_size=16"], in: directory)
        XCTAssertEqual(trained.status, 0, trained.stderr)
    }

    /// Runs `arguments` (with `environment` added) and checks the failure names `path`.
    /// A crash would not print the `error: ` line first, so the prefix check also rules crashes out.
    func assertCleanFailure(_ arguments: [String], path: String, environment: [String: String?] = [:],
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let (status, _, stderr) = try CLI.run(arguments, in: directory, threads: false, environment: environment)
        let command = arguments.prefix(2).joined(separator: " ")
        XCTAssertEqual(status, 1, "\(command): \(stderr)", file: file, line: line)
        XCTAssertTrue(stderr.hasPrefix("error: "), "\(command): \(stderr)", file: file, line: line)
        XCTAssertTrue(stderr.contains(path), "\(command): '\(path)' not in \(stderr)", file: file, line: line)
        XCTAssertFalse(stderr.contains("Error Domain=") || stderr.contains("NSCocoaErrorDomain"), stderr, file: file, line: line)
    }

    let missing = "missing/none.npy"
    let underFile = "c.npy/inside.npy"          // its parent is a regular file
    let underProc = "/proc/net2net-test/out"     // nothing can be created under /proc
    let folder = "folder.npy"                    // a directory where a file is wanted

    func testInputsThatCannotBeRead() throws {
        for bad in [missing, underFile, folder] {
            try assertCleanFailure(["train", "--condition", bad, "--target", "z.npy", "--output-dir", "out"], path: bad)
            try assertCleanFailure(["eval", "--checkpoint", "run", "--condition", "c.npy", "--target", bad], path: bad)
            try assertCleanFailure(["sample", "--checkpoint", "run", "--condition", bad, "--output", "s.npy"], path: bad)
            try assertCleanFailure(["translate", "--checkpoint", "run", "--target", bad, "--from", "c.npy", "--to", "c.npy",
                                    "--output", "t.npy"], path: bad)
            try assertCleanFailure(["decode", "--expert", "autoencoder", "--input", bad, "--output", "d.npy"], path: bad)
            try assertCleanFailure(["encode", "--expert", "minilm", "--input", bad, "--output", "e.npy"], path: bad)
        }
        // Checkpoints: missing, under a file, and a file or an empty directory where a checkpoint is wanted.
        for bad in ["missing", "c.npy/run", "c.npy", "folder.npy"] {
            for command in [["eval", "--condition", "c.npy", "--target", "z.npy"],
                            ["sample", "--condition", "c.npy", "--output", "s.npy"],
                            ["translate", "--target", "z.npy", "--from", "c.npy", "--to", "c.npy", "--output", "t.npy"]] {
                try assertCleanFailure(command + ["--checkpoint", bad], path: bad)
            }
        }
    }

    /// A recipe file without `experiment:` (a training configuration, or an empty file) is refused by name.
    func testRecipeWithoutAnExperimentIsRefused() throws {
        try "hidden_dim: 8\nsteps: 2\n".write(to: directory.appendingPathComponent("flow-only.yaml"), atomically: true, encoding: .utf8)
        try "".write(to: directory.appendingPathComponent("empty.yaml"), atomically: true, encoding: .utf8)
        for file in ["flow-only.yaml", "empty.yaml"] {
            try assertCleanFailure(["experiment", "train", file, "--output-dir", "never"], path: file)
            let result = try CLI.run(["experiment", "train", file, "--output-dir", "never"], in: directory, threads: false)
            XCTAssertTrue(result.stderr.contains("no 'experiment' key"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("never").path))
        }
        // Given on the command line, it counts.
        XCTAssertEqual(try ExperimentRecipe.load(file: directory.appendingPathComponent("flow-only.yaml").path,
                                                 overrides: ["experiment=text-to-image"]).kind, .textToImage)
    }

    func testOutputsThatCannotBeWritten() throws {
        // Output directories: under /proc, under a file, and an existing file.
        for bad in [underProc, underFile, "c.npy"] {
            try assertCleanFailure(["train", "--condition", "c.npy", "--target", "z.npy", "--output-dir", bad], path: bad)
            try assertCleanFailure(["demo", "--output-dir", bad], path: bad)
            try assertCleanFailure(["autoencoder", "train", "--output-dir", bad], path: bad)
            try assertCleanFailure(["experiment", "train", ShippedModels.recipe("label-to-image.yaml").path, "--output-dir", bad],
                                   path: bad)
        }
        // Output files: under /proc, under a file, and an existing directory.
        for bad in [underProc + ".npy", underFile, folder] {
            try assertCleanFailure(["sample", "--checkpoint", "run", "--condition", "c.npy", "--output", bad], path: bad)
            try assertCleanFailure(["translate", "--checkpoint", "run", "--target", "z.npy", "--from", "c.npy", "--to", "c.npy",
                                    "--output", bad], path: bad)
            try assertCleanFailure(["decode", "--expert", "autoencoder", "--random", "2", "--output", bad], path: bad)
        }
        try assertCleanFailure(["encode", "--expert", "minilm", "--input", "text.txt", "--output", underProc + ".npy"], path: underProc)
        // The asset cache: under /proc, and a file where its directory should be.
        for bad in [underProc, directory.appendingPathComponent("c.npy").path] {
            try assertCleanFailure(["assets", "fetch", "imagenet-classes"], path: bad, environment: ["NET2NET_HOME": bad])
        }
    }
}
