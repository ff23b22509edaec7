import ArgumentParser
import Foundation
import Experts
import Formats
import Net2Net
import TensorCore

@main
struct Net2NetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net2net",
        abstract: "Network-to-network translation with conditional invertible neural networks.",
        discussion: """
        Learns a conditional INN τ between the representations of two frozen expert networks \
        (Rombach, Esser & Ommer, NeurIPS 2020): z_Θ = τ(v | z_Φ), v ~ N(0, I). Representations \
        are float32 .npy files of shape [N, D].

        Shipped models (the autoencoder, the classifier, text-to-image τ) are looked for in \
        $NET2NET_MODELS, then <executable's directory>/../share/net2net/models, then \
        <executable's directory>/models, then the source tree's models/.

        Quick start:
          net2net demo
          net2net train --condition c.npy --target z.npy --output-dir run
          net2net sample --checkpoint run --condition c.npy --count 4 \\
                         --output samples.npy
        """,
        subcommands: [Assets.self, Encode.self, Decode.self, Autoencoder.self, Classifier.self, Experiment.self, EvalExperiment.self, Train.self, Sample.self, Translate.self, Eval.self, Import.self, Demo.self, Serve.self, Bench.self, Doctor.self, Inspect.self, DistributedCheck.self]
    )

    /// Usage errors and requested exits go through ArgumentParser (usage
    /// text, exit codes); every other failure prints one `error: …` line
    /// (`errorText`) and exits with status 1.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error where error is ExitCode || error is CleanExit || isArgumentParserError(error) {
            exit(withError: error)
        } catch {
            fail(errorText(error))
        }
    }

    /// True for ArgumentParser's own errors, e.g. the help request that the
    /// `help` subcommand and `--help` throw from `run()`; its error types are
    /// internal, so they are recognised by their module.
    static func isArgumentParserError(_ error: Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// Prints `error: message` on stderr and exits with status 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// Options shared by commands that compute.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and elementwise work (default: all cores).")
    var threads: Int?

    func apply() throws {
        do { try BLAS.load() } catch { Net2NetCommand.fail("\(error)") }
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
            ComputeThreads.set(threads)
        } else {
            ComputeThreads.set(max(1, ProcessInfo.processInfo.activeProcessorCount))
        }
    }
}

/// Writes a line to standard error (progress and notes; stdout stays for results).
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Prints one JSON object on stdout; a non-finite number (which JSON cannot
/// hold) is written as null.
func printJSON(_ object: [String: Any]) throws {
    func finite(_ value: Any) -> Any {
        if let number = value as? Double, !number.isFinite { return NSNull() }
        if let number = value as? Float, !number.isFinite { return NSNull() }
        if let array = value as? [Any] { return array.map(finite) }
        if let dictionary = value as? [String: Any] { return dictionary.mapValues(finite) }
        return value
    }
    let data = try JSONSerialization.data(withJSONObject: finite(object), options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func fileURL(_ path: String) -> URL { URL(fileURLWithPath: path) }
