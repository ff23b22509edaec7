import Foundation

/// What went wrong talking to the other processes of a job.
public enum CommunicatorError: Error, LocalizedError, Equatable {
    /// The MPI library could not be loaded or is not Open MPI.
    case unavailable(String)
    /// An MPI call returned an error code.
    case mpi(operation: String, code: Int32, message: String)
    /// An argument this side can check before calling MPI.
    case invalidArgument(String)

    public var errorDescription: String? {
        switch self {
        case let .unavailable(reason): return "MPI is not available: \(reason)"
        case let .mpi(operation, code, message): return "\(operation) failed (MPI error \(code)): \(message)"
        case let .invalidArgument(problem): return problem
        }
    }
}
