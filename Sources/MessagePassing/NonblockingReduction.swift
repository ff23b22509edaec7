import CMPI

/// An in-place allreduce in flight (`Communicator.startAllreduce`): one
/// MPI_Iallreduce per `bucketElements` of its buffer. Until it completes
/// (`wait`, `waitAll`, or `testAll` returning true) its buffer must be
/// neither read nor written; every request must be completed before the
/// buffer is freed or MPI is finalised.
public struct ReductionRequest {
    /// Open MPI's MPI_Request of each bucket still in flight (empty when complete).
    fileprivate var handles: [n2n_mpi_request?]
    /// The elements being reduced.
    public let count: Int

    /// Whether the reduction is known to have completed (always, without MPI).
    public var isComplete: Bool { handles.isEmpty }
}

extension Communicator {
    /// Starts an in-place allreduce of `buffer` (MPI_Iallreduce) and returns
    /// at once; on completion every process's `buffer` holds the element-wise
    /// sum (or maximum) over all processes, the same as `allreduce` would.
    /// Like every collective, all processes must start the same reductions,
    /// with the same counts, in the same order (blocking collectives may be
    /// called while these are in flight). Open MPI advances them only inside
    /// MPI calls: call `testAll` now and then while computing.
    public func startAllreduce<T: MessageScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ operation: Reduction = .sum)
        throws -> ReductionRequest {
        guard operation != .mean else {
            throw CommunicatorError.invalidArgument("a nonblocking allreduce sums or takes maxima: start a sum and scale it by 1/size once it has completed")
        }
        var request = ReductionRequest(handles: [], count: buffer.count)
        guard usesMPI, let base = buffer.baseAddress else { return request }
        let mpiOperation = Communicator.mpiOperation(operation)
        var offset = 0
        while offset < buffer.count {
            let n = min(bucketElements, buffer.count - offset)
            var handle: n2n_mpi_request? = nil
            do {
                try timed("MPI_Iallreduce") { n2n_mpi_iallreduce(base + offset, Int32(n), T.messageType, mpiOperation, &handle) }
            } catch {
                // The buckets already started still write into `buffer`: let them finish first.
                try? wait(&request)
                throw error
            }
            request.handles.append(handle)
            offset += n
        }
        reducedBytes += buffer.count * MemoryLayout<T>.stride
        return request
    }

    /// Returns when `request` has completed (MPI_Waitall over its buckets).
    public func wait(_ request: inout ReductionRequest) throws {
        var requests = [request]
        defer { request = requests[0] }
        try waitAll(&requests)
    }

    /// Returns when every one of `requests` has completed (one MPI_Waitall).
    public func waitAll(_ requests: inout [ReductionRequest]) throws {
        var handles = requests.flatMap(\.handles)
        guard !handles.isEmpty else { return }
        try timed("MPI_Waitall") {
            handles.withUnsafeMutableBufferPointer { n2n_mpi_waitall(Int32($0.count), $0.baseAddress!) }
        }
        for i in requests.indices { requests[i].handles = [] }
    }

    /// Whether every one of `requests` has completed (MPI_Testall). Returns
    /// at once either way, having let MPI advance them.
    public func testAll(_ requests: inout [ReductionRequest]) throws -> Bool {
        var handles = requests.flatMap(\.handles)
        guard !handles.isEmpty else { return true }
        var completed: Int32 = 0
        try timed("MPI_Testall") {
            handles.withUnsafeMutableBufferPointer { n2n_mpi_testall(Int32($0.count), $0.baseAddress!, &completed) }
        }
        // When not all have completed, MPI_Testall leaves every handle as it was.
        guard completed != 0 else { return false }
        for i in requests.indices { requests[i].handles = [] }
        return true
    }
}
