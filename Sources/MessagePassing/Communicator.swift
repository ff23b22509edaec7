import CMPI
import Foundation

/// The processes of one job, numbered 0..<size (rank 0 is the root that
/// validates, logs and writes), and the collective operations among them.
///
/// `Communicator.single` is one process with no MPI at all: every
/// operation is the identity (a sum over one process is its own values).
/// `Communicator.world()` loads Open MPI at run time (CMPI) and joins the
/// job `mpirun` (or `srun`) started. Collectives must be called by every
/// process in the same order with the same counts, as in MPI; MPI errors
/// come back as `CommunicatorError`, never as a crash.
public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Whether MPI carries the operations (false for `single`).
    public let usesMPI: Bool
    /// Seconds spent inside collectives since creation (for timing reports).
    public internal(set) var communicationSeconds = 0.0
    /// Bytes this process handed to allreduce since creation.
    public internal(set) var reducedBytes = 0

    /// The most elements one MPI call reduces or broadcasts: larger buffers
    /// go in buckets of this size (MPI counts are 32-bit; 2^24 floats are 64 MiB).
    public let bucketElements: Int

    init(rank: Int, size: Int, usesMPI: Bool, bucketElements: Int = 1 << 24) {
        precondition(bucketElements > 0 && bucketElements <= Int(Int32.max))
        self.rank = rank
        self.size = size
        self.usesMPI = usesMPI
        self.bucketElements = bucketElements
    }

    /// One process, no MPI.
    public static var single: Communicator { Communicator(rank: 0, size: 1, usesMPI: false) }

    /// Whether this process was started by an MPI launcher (Open MPI's
    /// mpirun, or a PMI/PMIx launcher such as Slurm's srun).
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    /// Joins the MPI job (MPI_Init once per process) and returns its world.
    public static func world(bucketElements: Int = 1 << 24) throws -> Communicator {
        guard n2n_mpi_load() == 0 else { throw CommunicatorError.unavailable(String(cString: n2n_mpi_load_error())) }
        try check(n2n_mpi_initialize(), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try check(n2n_mpi_rank(&rank), "MPI_Comm_rank")
        try check(n2n_mpi_size(&size), "MPI_Comm_size")
        return Communicator(rank: Int(rank), size: Int(size), usesMPI: true, bucketElements: bucketElements)
    }

    /// The library `world()` loaded ("" before, or without MPI).
    public static var libraryPath: String { String(cString: n2n_mpi_library_path()) }

    public var isRoot: Bool { rank == 0 }

    static func check(_ code: Int32, _ operation: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 1024)
        n2n_mpi_error_string(code, &text, text.count)
        let message = String(cString: text)
        if code == N2N_MPI_NOT_LOADED { throw CommunicatorError.unavailable(message) }
        throw CommunicatorError.mpi(operation: operation, code: code, message: message)
    }

    /// Runs one collective, timing it.
    func timed(_ operation: String, _ body: () -> Int32) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let code = body()
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try Communicator.check(code, operation)
    }

    /// Returns when every process has called it.
    public func barrier() throws {
        guard usesMPI else { return }
        try timed("MPI_Barrier") { n2n_mpi_barrier() }
    }

    /// Every process's `buffer` receives the root's values.
    public func broadcast<T: MessageScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int = 0) throws {
        guard usesMPI, let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let n = min(bucketElements, buffer.count - offset)
            try timed("MPI_Bcast") { n2n_mpi_broadcast(base + offset, Int32(n), T.messageType, Int32(root)) }
            offset += n
        }
    }

    public func broadcast<T: MessageScalar>(_ values: inout [T], root: Int = 0) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// In place: every process's `buffer` becomes the element-wise sum (or
    /// maximum) over all processes, reduced in buckets of `bucketElements`.
    public func allreduce<T: MessageScalar>(_ buffer: UnsafeMutableBufferPointer<T>, _ operation: Reduction = .sum) throws {
        guard operation != .mean else {
            throw CommunicatorError.invalidArgument("a mean needs floating-point values: use allreduceMean")
        }
        guard usesMPI, let base = buffer.baseAddress else { return }
        let mpiOperation = Communicator.mpiOperation(operation)
        var offset = 0
        while offset < buffer.count {
            let n = min(bucketElements, buffer.count - offset)
            try timed("MPI_Allreduce") { n2n_mpi_allreduce(base + offset, Int32(n), T.messageType, mpiOperation) }
            offset += n
        }
        reducedBytes += buffer.count * MemoryLayout<T>.stride
    }

    public func allreduce<T: MessageScalar>(_ values: inout [T], _ operation: Reduction = .sum) throws {
        try values.withUnsafeMutableBufferPointer { try allreduce($0, operation) }
    }

    /// MPI's operation for a sum or maximum (`mean` is a sum, then a scale).
    static func mpiOperation(_ operation: Reduction) -> n2n_mpi_operation {
        operation == .maximum ? N2N_MPI_MAX : N2N_MPI_SUM
    }

    /// In place: the element-wise mean over all processes (sum, then · 1/size).
    public func allreduceMean<T: MessageScalar & BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>) throws {
        try allreduce(buffer, .sum)
        guard size > 1 else { return }
        let scale = 1 / T(size)
        for i in buffer.indices { buffer[i] *= scale }
    }

    /// Every process's `values` (any count, possibly zero), concatenated in
    /// rank order on `root`; nil elsewhere.
    public func gather<T: MessageScalar>(_ values: [T], root: Int = 0) throws -> [T]? {
        guard usesMPI else { return values }
        guard (0..<size).contains(root) else {
            // MPI would report it too, but only after the counts below are exchanged.
            throw CommunicatorError.invalidArgument("gather: root \(root) is not a rank of this job (0..<\(size))")
        }
        guard values.count <= Int(Int32.max) else {
            throw CommunicatorError.invalidArgument("gather: \(values.count) values are more than one MPI call carries")
        }
        var counts = [Int64](repeating: 0, count: size)
        let mine = [Int64(values.count)]
        try mine.withUnsafeBufferPointer { send in
            try counts.withUnsafeMutableBufferPointer { receive in
                try timed("MPI_Gather") {
                    n2n_mpi_gather(send.baseAddress, 1, receive.baseAddress, Int64.messageType, Int32(root))
                }
            }
        }
        let total = counts.reduce(0, +)
        guard rank != root || total <= Int64(Int32.max) else {
            throw CommunicatorError.invalidArgument("gather: \(total) values are more than one MPI call carries")
        }
        var received = [T]()
        if rank == root { received = [T](unsafeUninitializedCapacity: Int(total)) { _, n in n = Int(total) } }
        let counts32 = counts.map { Int32(clamping: $0) }
        var displacements = [Int32](repeating: 0, count: size)
        for i in 1..<max(1, size) { displacements[i] = displacements[i - 1] &+ counts32[i - 1] }
        try values.withUnsafeBufferPointer { send in
            try received.withUnsafeMutableBufferPointer { receive in
                try timed("MPI_Gatherv") {
                    n2n_mpi_gatherv(send.baseAddress, Int32(values.count), receive.baseAddress, counts32,
                                    displacements, T.messageType, Int32(root))
                }
            }
        }
        return rank == root ? received : nil
    }

    /// Leaves MPI (once per process; later collectives fail). Harmless without MPI.
    public func finalize() {
        if usesMPI { _ = n2n_mpi_finalize() }
    }

    /// Ends the MPI job this process belongs to with `code`, if it has
    /// joined one and not left it; otherwise does nothing. For a fatal error
    /// on one process, so that the others do not wait for it forever.
    public static func abortActiveJob(code: Int32) {
        if n2n_mpi_active() != 0 { _ = n2n_mpi_abort(code) }
    }

    /// Ends every process of the job with `code` (after an error on one of
    /// them, so that the others do not wait for it forever).
    public func abort(code: Int32) -> Never {
        if usesMPI { _ = n2n_mpi_abort(code) }
        exit(code)
    }
}
