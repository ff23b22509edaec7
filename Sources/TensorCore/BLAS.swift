import CKernels

/// The BLAS library behind `gemm`, loaded at run time on first use.
///
/// `NET2NET_BLAS` names a library (a path or soname) other than the system
/// OpenBLAS. Before an OpenBLAS loads, its kernel is chosen from the CPU's
/// features, so that an OpenBLAS too old to know the CPU model does not fall
/// back to generic kernels; `NET2NET_BLAS_CORETYPE` forces a kernel. See
/// `Sources/CKernels/BLASLoader.c` for the rules.
public enum BLAS {
    /// Why the BLAS could not be loaded.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads the BLAS now, so that a missing library is a clear error before
    /// any work starts (otherwise the first GEMM stops the process with the reason).
    public static func load() throws {
        if n2n_blas_load() != 0 { throw LoadError(description: String(cString: n2n_blas_error())) }
    }

    /// The loaded library's file.
    public static var library: String { String(cString: n2n_blas_library()) }
    /// The library's own description of its build (OpenBLAS: `openblas_get_config()`).
    public static var configuration: String { String(cString: n2n_blas_config()) }
    /// The GEMM kernel in use (OpenBLAS: `openblas_get_corename()`); empty when the library cannot say.
    public static var kernel: String { String(cString: n2n_blas_kernel()) }
    /// What the loader decided about the kernel and why, including a warning
    /// when the library still runs a kernel below what the CPU supports.
    public static var kernelDecision: String { String(cString: n2n_blas_kernel_decision()) }
}
