import Foundation
import TensorCore
import XCTest

/// `net2net doctor` and the run-time choices it reports: the kernels'
/// instruction set and the BLAS kernel, including a BLAS forced onto a
/// generic kernel the way an OpenBLAS that does not know the CPU picks one.
final class DoctorCommandTests: XCTestCase {
    /// Runs `net2net doctor --json` with the kernel and BLAS variables cleared, then `environment` set.
    func doctor(_ environment: [String: String]) throws -> (status: Int32, json: [String: Any]?, stderr: String) {
        try CLI.requireExecutable()
        var variables: [String: String?] = [:]
        for key in ["OPENBLAS_CORETYPE", "NET2NET_BLAS", "NET2NET_BLAS_CORETYPE", "NET2NET_ISA", "NET2NET_GEMM"] { variables[key] = .some(nil) }
        for (key, value) in environment { variables[key] = value }
        let result = try CLI.run(["doctor", "--json"], in: FileManager.default.temporaryDirectory, threads: false,
                                 environment: variables)
        let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (result.status, json, result.stderr)
    }

    func testReportsTheMachine() throws {
        let result = try doctor([:])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        XCTAssertEqual(json["kernels"] as? String, InstructionSet.supported.description)
        XCTAssertEqual(json["cpu_features"] as? [String], ProcessorInfo.features)
        XCTAssertFalse((json["blas_library"] as? String ?? "").isEmpty)
        XCTAssertNotNil(json["asset_home"] as? String)
    }

    /// A generic kernel in the environment (what an OpenBLAS that does not know
    /// the CPU model falls back to) must not stick: either the loader replaces
    /// it, or it says loudly that it could not.
    func testAGenericBLASKernelIsReplacedOrReported() throws {
        let result = try doctor(["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        let kernel = json["blas_kernel"] as? String ?? ""
        let decision = json["blas_kernel_decision"] as? String ?? ""
        guard InstructionSet.supported >= .avx2 else { return }  // Prescott may be right on such a CPU
        if kernel.isEmpty { return }  // not an OpenBLAS: it chose its own kernels
        XCTAssertTrue(kernel != "Prescott" || decision.contains("WARNING"), "kernel \(kernel), decision: \(decision)")
        if kernel != "Prescott" { XCTAssertTrue(decision.contains("Prescott"), decision) }
    }

    func testForcingAKernelBelowTheCPUIsReportedLoudly() throws {
        guard InstructionSet.supported >= .avx2 else { return }
        let result = try doctor(["NET2NET_BLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        if (json["blas_kernel"] as? String) == "Prescott" {
            XCTAssertTrue((json["blas_kernel_decision"] as? String ?? "").contains("WARNING"))
        }
    }

    func testLoweredInstructionSet() throws {
        let result = try doctor(["NET2NET_ISA": "baseline"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["kernels"] as? String, "baseline")
        XCTAssertEqual(result.json?["batch_gemm"] as? String, "blas")  // the baseline build has no GEMM of ours
    }

    func testTheBatchGEMMChoiceIsReported() throws {
        let ours = try doctor([:]), blas = try doctor(["NET2NET_GEMM": "blas"])
        XCTAssertEqual(ours.json?["batch_gemm"] as? String, InstructionSet.supported >= .avx2 ? "ours" : "blas")
        XCTAssertEqual(blas.json?["batch_gemm"] as? String, "blas")
    }

    func testAMissingBLASIsAClearError() throws {
        let result = try doctor(["NET2NET_BLAS": "/nonexistent/libblas-missing.so"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("/nonexistent/libblas-missing.so"), result.stderr)
    }
}
