import Formats
import Foundation
import TensorCore

/// The flow's tensors of a reference checkpoint by key (without the
/// Lightning prefix), and which of them the import has used: a key left
/// unused is one with no counterpart here, and the import refuses it.
struct ReferenceKeys {
    let path: String
    /// The prefix the keys carry in the file, for messages.
    let prefix: String
    var values: [String: PyTorchCheckpoint.TensorValue] = [:]
    private var used: Set<String> = []

    init(path: String, prefix: String) {
        self.path = path
        self.prefix = prefix
    }

    func error(_ problem: String) -> Net2NetError { .checkpoint(path: path, problem: problem) }

    func shape(_ key: String) throws -> [Int] {
        guard let value = values[key] else { throw error("missing key \(prefix)\(key)") }
        return value.shape
    }

    /// The number of blocks N in keys `<head>N.…`; they must be 0, 1, …, N − 1.
    func contiguousIndices(under head: String) throws -> Int {
        var indices: Set<Int> = []
        for key in values.keys where key.hasPrefix(head) {
            guard let index = Int(key.dropFirst(head.count).prefix { $0 != "." }) else {
                throw error("\(prefix)\(key): expected a block number after '\(head)'")
            }
            indices.insert(index)
        }
        guard indices == Set(0..<indices.count) else {
            throw error("the blocks \(head)N are not numbered 0…\(indices.count - 1): \(indices.sorted())")
        }
        return indices.count
    }

    /// The shapes of the matrices `<head>I.weight`, in the order of I.
    func linearShapes(under head: String) throws -> [[Int]] {
        var found: [(index: Int, shape: [Int])] = []
        for (key, value) in values where key.hasPrefix(head) && key.hasSuffix(".weight") && value.shape.count == 2 {
            let middle = key.dropFirst(head.count).dropLast(".weight".count)
            guard let index = Int(middle) else { throw error("\(prefix)\(key): unexpected module name") }
            found.append((index, value.shape))
        }
        return found.sorted { $0.index < $1.index }.map(\.shape)
    }

    /// The float tensor under `key`, marked used.
    mutating func float(_ key: String) throws -> Tensor {
        guard let value = values[key] else { throw error("missing key \(prefix)\(key)") }
        guard case .float32(let tensor) = value else { throw error("\(prefix)\(key) holds integers, expected floating point") }
        used.insert(key)
        return tensor
    }

    /// The integers under `key`, marked used.
    mutating func integers(_ key: String) throws -> (values: [Int64], shape: [Int]) {
        guard let value = values[key] else { throw error("missing key \(prefix)\(key)") }
        guard case .int64(let integers, let shape) = value else { throw error("\(prefix)\(key) holds floats, expected integers") }
        used.insert(key)
        return (integers, shape)
    }

    /// The values of our parameter or buffer `name`, of our `shape`, from
    /// the reference's key for it (see `ReferenceFlowImport` for the map).
    mutating func parameter(forOurName name: String, shape: [Int]) throws -> [Float] {
        let parts = name.split(separator: ".").map(String.init)
        let key: String
        var isLogScale = false
        if parts.count == 4, parts[0] == "embedder", parts[1] == "layers" {
            key = "embedder.main.\(parts[2]).\(parts[3])"
        } else if parts.count == 4, parts[0] == "blocks", parts[2] == "actnorm" {
            isLogScale = parts[3] == "log_scale"
            key = "sub_layers.\(parts[1]).norm_layer.\(isLogScale ? "scale" : parts[3])"
        } else if parts.count == 7, parts[0] == "blocks", parts[2] == "coupling", parts[4] == "layers",
                  let net = parts[3].first, let half = Int(parts[3].dropFirst()) {
            key = "sub_layers.\(parts[1]).coupling.\(net).\(half).main.\(parts[5]).\(parts[6])"
        } else {
            preconditionFailure("no reference key for parameter \(name)")
        }
        let tensor = try float(key)
        // ActNorm's [1, D, 1, 1] is our [D].
        let expected = parts[0] == "blocks" && parts[2] == "actnorm" ? [1, shape[0], 1, 1] : shape
        guard tensor.shape == expected else {
            throw error("\(prefix)\(key) has shape \(tensor.shape), expected \(expected) for this architecture")
        }
        guard isLogScale else { return tensor.scalars }
        guard let bad = tensor.scalars.firstIndex(where: { !($0 > 0) }) else { return tensor.scalars.map { Foundation.log($0) } }
        throw error("\(prefix)\(key)[\(bad)] is \(tensor.scalars[bad]); an ActNorm scale must be positive to be imported")
    }

    /// Block `block`'s permutation, checked against its stored inverse.
    mutating func permutation(block: Int, dimension: Int) throws -> [Int] {
        let forwardKey = "sub_layers.\(block).shuffle.forward_shuffle_idx"
        let forward = try integers(forwardKey).values.map(Int.init)
        guard forward.count == dimension, Set(forward) == Set(0..<dimension) else {
            throw error("\(prefix)\(forwardKey) is not a permutation of 0..<\(dimension)")
        }
        let backwardKey = "sub_layers.\(block).shuffle.backward_shuffle_idx"
        if values[backwardKey] != nil {
            let backward = try integers(backwardKey).values.map(Int.init)
            guard backward.count == dimension, (0..<dimension).allSatisfy({ backward[forward[$0]] == $0 }) else {
                throw error("\(prefix)\(backwardKey) is not the inverse of \(forwardKey)")
            }
        }
        return forward
    }

    /// Whether every block's ActNorm says it was initialised from data; the
    /// reference's flag is per block, ours per flow, so a mixed file is refused.
    mutating func actNormInitialized(blocks: Int) throws -> Bool {
        var flags: [Bool] = []
        for block in 0..<blocks {
            let key = "sub_layers.\(block).norm_layer.initialized"
            guard values[key] != nil else { continue }
            flags.append(try integers(key).values.first.map { $0 != 0 } ?? false)
        }
        guard Set(flags).count <= 1 else {
            throw error("some ActNorm layers are initialised and some are not (…norm_layer.initialized); train the model for one step first")
        }
        return flags.first ?? true
    }

    /// Refuses a key that nothing used (bookkeeping like BatchNorm's
    /// `num_batches_tracked` aside), naming it.
    func checkAllUsed() throws {
        for key in values.keys.sorted() where !used.contains(key) && !key.hasSuffix(".num_batches_tracked") {
            throw error("\(prefix)\(key) has no counterpart in this package's flow; it cannot be imported")
        }
    }
}
