import Foundation
import Formats
import Layers
import TensorCore

/// Reads float tensors from a safetensors file, checking each one's presence
/// and shape, and turns every format problem into `ExpertError.badAsset`
/// naming the file and the tensor.
struct CheckedWeights {
    let file: SafeTensorsFile
    let path: String

    /// Maps `url`; a missing or malformed file is a `badAsset` error.
    init(contentsOf url: URL) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ExpertError.badAsset(path: url.path, problem: "file is missing")
        }
        do {
            file = try SafeTensorsFile(contentsOf: url)
        } catch let error as FormatError {
            throw ExpertError.badAsset(path: url.path, problem: "not a usable safetensors file: \(error.problem)")
        } catch {
            throw ExpertError.badAsset(path: url.path, problem: "not a usable safetensors file: \(error.localizedDescription)")
        }
    }

    /// Throws unless `name` exists with exactly `shape`.
    func check(_ name: String, _ shape: [Int]) throws {
        guard let info = file.info(name) else {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)' is missing")
        }
        guard info.shape == shape else {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)' has shape \(info.shape), expected \(shape)")
        }
        guard ["F32", "F16", "BF16", "F64"].contains(info.dtype) else {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)' has dtype \(info.dtype), expected a float type")
        }
    }

    /// The tensor `name` (checked to have `shape`) as Float32 scalars.
    func scalars(_ name: String, _ shape: [Int]) throws -> [Float] {
        try check(name, shape)
        do {
            return try file.tensor(name).scalars
        } catch let error as FormatError {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)': \(error.problem)")
        }
    }

    /// The tensor `name` (checked to have `shape`) in a new buffer.
    func buffer(_ name: String, _ shape: [Int]) throws -> FloatBuffer {
        FloatBuffer(try scalars(name, shape))
    }

    /// The matrix `name` `[out, in]` (checked to have `shape`), transposed
    /// into a new buffer as `[in, out]` (for GEMMs that read it untransposed).
    func transposedBuffer(_ name: String, _ shape: [Int]) throws -> FloatBuffer {
        FloatBuffer(transposeMatrix(try scalars(name, shape), rows: shape[0], columns: shape[1]))
    }
}
