import Foundation

/// What a benchmark number depends on: the CPU, the kernels' instruction set,
/// the threads and the BLAS with its kernel. `net2net doctor` prints it, and
/// every `net2net bench` prints it above its table.
public struct MachineDescription: Sendable {
    public var cpuModel: String
    public var cpuVendor: String
    public var cpuFeatures: [String]
    public var cores: Int
    public var threads: Int
    public var instructionSet: InstructionSet
    public var supportedInstructionSet: InstructionSet
    public var blasLibrary: String
    public var blasConfiguration: String
    public var blasKernel: String
    public var blasKernelDecision: String
    /// Whether a linear layer's products at small batches run our kernels
    /// (`batchGEMM`) or BLAS's.
    public var batchGEMMIsOurs: Bool
    /// Why the BLAS could not be loaded, when it could not.
    public var blasError: String?

    /// The machine as this process sees it now (loads the BLAS if needed).
    public static func current() -> MachineDescription {
        var blasError: String?
        do { try BLAS.load() } catch { blasError = "\(error)" }
        let loaded = blasError == nil
        return MachineDescription(
            cpuModel: ProcessorInfo.model, cpuVendor: ProcessorInfo.vendor, cpuFeatures: ProcessorInfo.features,
            cores: ProcessInfo.processInfo.activeProcessorCount, threads: loaded ? ComputeThreads.blasThreads : 0,
            instructionSet: InstructionSet.current, supportedInstructionSet: InstructionSet.supported,
            blasLibrary: loaded ? BLAS.library : "", blasConfiguration: loaded ? BLAS.configuration : "",
            blasKernel: loaded ? BLAS.kernel : "", blasKernelDecision: loaded ? BLAS.kernelDecision : "",
            batchGEMMIsOurs: InPlaceGEMM.isEnabled && InstructionSet.current != .baseline,
            blasError: blasError)
    }

    /// Human-readable lines, `label: value`.
    public var lines: [String] {
        var lines = [
            "cpu: \(cpuModel.isEmpty ? "unknown" : cpuModel) (\(cpuVendor), \(cores) cores)",
            "cpu features: \(cpuFeatures.isEmpty ? "none of interest" : cpuFeatures.joined(separator: " "))",
            "kernels: \(instructionSet)" + (instructionSet < supportedInstructionSet
                                            ? " (lowered by NET2NET_ISA; the CPU supports \(supportedInstructionSet))" : ""),
            "threads: \(threads)",
        ]
        if let blasError {
            lines.append("blas: not loaded: \(blasError)")
        } else {
            lines.append("blas: \(blasLibrary)" + (blasConfiguration.isEmpty ? "" : " (\(blasConfiguration))"))
            lines.append("blas kernel: \(blasKernel.isEmpty ? "not reported by the library" : blasKernel)"
                         + (blasKernelDecision.isEmpty ? "" : " — \(blasKernelDecision)"))
        }
        lines.append("batch gemm: " + (batchGEMMIsOurs
            ? "ours (\(instructionSet)) for " + (instructionSet == .avx512
                ? "2–\(InPlaceGEMM.maximumBatch) rows" : "2–\(InPlaceGEMM.avx2Batch) rows, A·B only")
                + " against a weight matrix, one product per core"
            : InPlaceGEMM.isEnabled ? "BLAS (the baseline kernels have none of ours)" : "BLAS (NET2NET_GEMM=blas)"))
        return lines
    }

    /// The same as one JSON-ready dictionary.
    public var dictionary: [String: Any] {
        var object: [String: Any] = [
            "cpu_model": cpuModel, "cpu_vendor": cpuVendor, "cpu_features": cpuFeatures, "cores": cores,
            "threads": threads, "kernels": instructionSet.description,
            "kernels_supported": supportedInstructionSet.description,
            "blas_library": blasLibrary, "blas_configuration": blasConfiguration, "blas_kernel": blasKernel,
            "blas_kernel_decision": blasKernelDecision, "batch_gemm": batchGEMMIsOurs ? "ours" : "blas",
        ]
        if let blasError { object["blas_error"] = blasError }
        return object
    }
}
