import Foundation
import Formats
import Layers
import TensorCore

/// The float tensors of a PyTorch `state_dict` file (`torch.save`, zip or
/// legacy), looked up by name with their shapes checked; every problem —
/// an unreadable file, a missing key, a wrong shape — is
/// `ExpertError.badAsset` naming the file and the key.
///
/// Checkpoints that wrap the state dict (`{"state_dict": …}`, as training
/// scripts save it) and keys prefixed `module.` (saved from
/// `DataParallel`) are read as the bare state dict.
struct CheckedStateDict {
    let path: String
    let tensors: [String: Tensor]

    /// Reads `url`; `wrappers` are the entries that may hold the state dict.
    init(contentsOf url: URL, wrappers: [String] = ["state_dict"]) throws {
        path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ExpertError.badAsset(path: url.path, problem: "no such file (a PyTorch state_dict .pth was expected)")
        }
        var all: [(name: String, value: PyTorchCheckpoint.TensorValue)]
        do {
            all = try PyTorchCheckpoint.stateDict(url)
        } catch let error as FormatError {
            throw ExpertError.badAsset(path: url.path, problem: "not a usable PyTorch checkpoint: \(error.problem)")
        }
        let wrapper = wrappers.first { w in all.contains { entry in entry.name.hasPrefix(w + ".") } }
        if let wrapper {
            let prefix = wrapper + "."
            all = all.filter { entry in entry.name.hasPrefix(prefix) }
                .map { entry in (name: String(entry.name.dropFirst(prefix.count)), value: entry.value) }
        }
        var tensors: [String: Tensor] = [:]
        for (name, value) in all {
            guard case .float32(let t) = value else { continue }
            tensors[name.hasPrefix("module.") ? String(name.dropFirst(7)) : name] = t
        }
        self.tensors = tensors
    }

    /// The tensor `name`, whatever its shape; missing is an error naming it.
    func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)' is missing")
        }
        return t
    }

    /// The scalars of `name`, which must have exactly `shape`.
    func scalars(_ name: String, _ shape: [Int]) throws -> [Float] {
        let t = try tensor(name)
        guard t.shape == shape else {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)' has shape \(t.shape), expected \(shape)")
        }
        return t.scalars
    }

    /// The shape of `name`, which must have `rank` axes.
    func shape(_ name: String, rank: Int) throws -> [Int] {
        let t = try tensor(name)
        guard t.rank == rank, !t.shape.contains(0) else {
            throw ExpertError.badAsset(path: path, problem: "tensor '\(name)' has shape \(t.shape), expected \(rank) non-empty axes")
        }
        return t.shape
    }

    /// An inference BatchNorm `prefix.{weight,bias,running_mean,running_var}` of `channels`.
    func batchNorm(_ prefix: String, channels: Int, epsilon: Float) throws -> ChannelAffine {
        ChannelAffine(batchNormWeight: try scalars("\(prefix).weight", [channels]),
                      bias: try scalars("\(prefix).bias", [channels]),
                      runningMean: try scalars("\(prefix).running_mean", [channels]),
                      runningVariance: try scalars("\(prefix).running_var", [channels]), epsilon: epsilon)
    }
}
