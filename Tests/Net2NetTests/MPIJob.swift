import Foundation
import XCTest

/// Starts `net2net` under Open MPI's mpirun on this machine: N processes,
/// one BLAS thread each, oversubscribed, unbound (tests share a small machine).
struct MPIJob {
    /// mpirun on PATH, or nil.
    static var launcher: URL? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Skips the test (with the reason) where mpirun is missing; CI installs
    /// it with scripts/install-dependencies.
    static func requireLauncher() throws -> URL {
        guard let launcher else {
            throw XCTSkip("mpirun is not on PATH: install openmpi-bin and libopenmpi-dev (scripts/install-dependencies) to run the data-parallel tests")
        }
        try CLI.requireExecutable()
        return launcher
    }

    static func arguments(processes: Int, extra: [String] = [], _ command: [String]) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", String(processes),
         "-x", "OPENBLAS_NUM_THREADS=1", "-x", "OMP_NUM_THREADS=1"] + extra
            + [CLI.executable.path] + command + ["--threads", "1"]
    }

    /// A started job (its output goes to `log`).
    static func start(processes: Int, _ command: [String], in directory: URL, log: URL) throws -> Process {
        let process = Process()
        process.executableURL = try requireLauncher()
        process.arguments = arguments(processes: processes, command)
        process.currentDirectoryURL = directory
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    /// Runs a job to its end.
    @discardableResult
    static func run(processes: Int, _ command: [String], in directory: URL, mca: [String] = [])
        throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try requireLauncher()
        process.arguments = arguments(processes: processes, extra: mca, command)
        process.currentDirectoryURL = directory
        return try CLI.capture(process)
    }

    /// The JSON object a job's rank 0 printed.
    static func json(_ result: (status: Int32, stdout: String, stderr: String),
                     file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try XCTUnwrap(object, "no JSON object in: \(result.stdout) \(result.stderr)", file: file, line: line)
    }

    /// The pids of mpirun's `net2net` children (the ranks on this machine).
    static func ranks(of launcher: Process) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let name = stat[stat.index(after: stat.firstIndex(of: "(")!)..<close]
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return name == "net2net" && fields.count > 2 && Int32(fields[1]) == launcher.processIdentifier
        }
    }
}
