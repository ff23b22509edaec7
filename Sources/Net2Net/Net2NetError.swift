import Foundation

/// Errors at the user-facing boundary: configuration, data files,
/// checkpoints and training. Each message names the file or key involved.
public enum Net2NetError: Error, LocalizedError, Equatable {
    /// A configuration key or value is invalid.
    case configuration(String)
    /// A data file is unusable: path and problem.
    case data(path: String, problem: String)
    /// A checkpoint is missing, corrupt or does not fit: path and problem.
    case checkpoint(path: String, problem: String)
    /// Training had to stop.
    case training(String)
    /// A feature that needs something this build does not have yet.
    case unsupported(String)
    /// An output location cannot be created or written: path and problem.
    case output(path: String, problem: String)
    /// Another process is writing checkpoints into `path` (its pid, when it recorded one).
    case directoryInUse(path: String, pid: Int32?)
    /// A requested size is beyond what can be allocated: what was asked, and the limit.
    case tooLarge(String)
    /// A value passed for a parameter of a library call is unusable: the
    /// parameter's name (as in the Swift call) and the problem.
    case parameter(name: String, problem: String)

    public var errorDescription: String? {
        switch self {
        case .configuration(let message): return "configuration: \(message)"
        case .data(let path, let problem): return "\(path): \(problem)"
        case .checkpoint(let path, let problem): return "\(path): \(problem)"
        case .training(let message): return message
        case .unsupported(let message): return message
        case .output(let path, let problem): return "\(path): \(problem)"
        case .directoryInUse(let path, let pid):
            let holder = pid.map { "process \($0)" } ?? "another process"
            return "\(path): in use: \(holder) is writing checkpoints there; wait for it to finish or use another directory"
        case .tooLarge(let message): return message
        case .parameter(let name, let problem): return "\(name): \(problem)"
        }
    }
}
