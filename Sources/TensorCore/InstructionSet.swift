import CKernels

/// The instruction set the elementwise kernels run with, chosen on first use
/// from the CPU's features: the best of AVX-512 (F, BW, DQ, VL), AVX2 + FMA and
/// the x86-64 baseline that the CPU and OS support. The environment variable
/// `NET2NET_ISA` (`avx512`, `avx2`, `baseline`) lowers the choice, which is
/// how another kind of CPU is emulated; nothing raises it above the CPU.
public enum InstructionSet: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case baseline = 0
    case avx2 = 1
    case avx512 = 2

    /// The set in use.
    public static var current: InstructionSet { InstructionSet(rawValue: Int(n2n_isa_current().rawValue)) ?? .baseline }

    /// The best set this machine supports.
    public static var supported: InstructionSet { InstructionSet(rawValue: Int(n2n_isa_supported().rawValue)) ?? .baseline }

    /// Switches every kernel to `set`, or to the best supported set below it;
    /// returns the set now in use. For tests and benchmarks that compare sets.
    @discardableResult
    public static func select(_ set: InstructionSet) -> InstructionSet {
        InstructionSet(rawValue: Int(n2n_isa_select(n2n_isa(UInt32(set.rawValue))).rawValue)) ?? .baseline
    }

    public var description: String { String(cString: n2n_isa_name(n2n_isa(UInt32(rawValue)))) }

    public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.rawValue < b.rawValue }
}

/// What this CPU is, as the kernels and the BLAS see it.
public enum ProcessorInfo {
    /// The brand string, e.g. "AMD EPYC 9R14 96-Core Processor".
    public static var model: String { text(n2n_cpu_brand) }
    /// "GenuineIntel", "AuthenticAMD", …
    public static var vendor: String { text(n2n_cpu_vendor) }
    /// The features that decide kernels: "avx2 fma avx512f …".
    public static var features: [String] { text(n2n_cpu_features).split(separator: " ").map(String.init) }

    private static func text(_ body: (UnsafeMutablePointer<CChar>, Int) -> Void) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        return String(cString: buffer)
    }
}
