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

    public var errorDescription: String? {
        switch self {
        case .configuration(let message): return "configuration: \(message)"
        case .data(let path, let problem): return "\(path): \(problem)"
        case .checkpoint(let path, let problem): return "\(path): \(problem)"
        case .training(let message): return message
        case .unsupported(let message): return message
        }
    }
}
