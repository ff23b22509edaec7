import CMPI

/// An element type MPI can move: its MPI datatype.
public protocol MessageScalar {
    static var messageType: n2n_mpi_type { get }
}

extension Float: MessageScalar { public static var messageType: n2n_mpi_type { N2N_MPI_FLOAT } }
extension Double: MessageScalar { public static var messageType: n2n_mpi_type { N2N_MPI_DOUBLE } }
extension UInt8: MessageScalar { public static var messageType: n2n_mpi_type { N2N_MPI_BYTE } }
extension Int64: MessageScalar { public static var messageType: n2n_mpi_type { N2N_MPI_INT64 } }

/// How `allreduce` combines the processes' values element by element.
public enum Reduction: Sendable {
    case sum
    /// The sum divided by the number of processes (floating point only).
    case mean
    case maximum
}
