import Dispatch
import Foundation
import Synchronization

/// The one place compute runs: a bounded first-in, first-out queue in front
/// of a single worker thread.
///
/// The models are not thread-safe and each call already uses every core
/// (the BLAS and the kernels are multi-threaded), so requests run one at a
/// time, in arrival order, off the server's event loops. At most `capacity`
/// requests are admitted (running or waiting); one more is refused at once
/// with `ServerError.busy`, whose Retry-After is the expected wait: the
/// admitted requests times the mean duration of recent ones.
public final class ComputeQueue: Sendable {
    public let capacity: Int
    private let worker = DispatchQueue(label: "net2net.compute")
    private struct State {
        var admitted = 0
        /// Exponential moving mean of a request's duration, in seconds.
        var meanSeconds = 0.5
    }
    private let state = Mutex(State())

    public init(capacity: Int) {
        precondition(capacity >= 1, "a queue holds at least one request")
        self.capacity = capacity
    }

    /// Requests running or waiting now.
    public var admitted: Int { state.withLock { $0.admitted } }

    /// Runs `work` on the worker once the requests before it have run, or
    /// throws `ServerError.busy` when `capacity` requests are already admitted.
    public func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        let admission: Int? = state.withLock { state in
            guard state.admitted < capacity else {
                return Int((Double(state.admitted) * state.meanSeconds).rounded(.up))
            }
            state.admitted += 1
            return nil
        }
        if let wait = admission { throw ServerError.busy(retryAfter: max(1, wait)) }
        defer { state.withLock { $0.admitted -= 1 } }
        return try await withCheckedThrowingContinuation { continuation in
            worker.async {
                let start = DispatchTime.now().uptimeNanoseconds
                let result = Result { try work() }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                self.state.withLock { $0.meanSeconds = 0.8 * $0.meanSeconds + 0.2 * seconds }
                continuation.resume(with: result)
            }
        }
    }
}
