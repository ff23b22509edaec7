import Formats
import Foundation
import TensorCore

/// Paired representations (z_Φ, z_Θ) for training a conditional flow: the
/// condition `[N, Dc]` and the target `[N, D]`, row i of one paired with
/// row i of the other.
public struct PairDataset: Sendable {
    public let condition: Tensor
    public let target: Tensor
    /// What messages call the two arrays (their file paths when loaded from files).
    public let conditionName: String
    public let targetName: String
    /// Rows that share a group (e.g. the pairs of one image with several
    /// captions) go to the same side of the validation split, so that
    /// validation never scores a target the training rows contain. nil: each
    /// row is its own group.
    public var groups: [Int]? = nil {
        willSet { precondition(newValue.map { $0.count == count } ?? true, "one group per row") }
    }

    public var count: Int { target.shape[0] }
    public var dimension: Int { target.shape[1] }
    public var conditionDimension: Int { condition.shape[1] }

    /// Pairs from tensors; checks shapes and finiteness.
    public init(condition: Tensor, target: Tensor,
                conditionName: String = "condition", targetName: String = "target") throws {
        try PairDataset.checkMatrix(target, name: targetName)
        try PairDataset.checkMatrix(condition, name: conditionName)
        guard condition.shape[0] == target.shape[0] else {
            throw Net2NetError.data(path: conditionName,
                                    problem: "has \(condition.shape[0]) rows but \(targetName) has \(target.shape[0]); the rows must pair up")
        }
        self.condition = condition
        self.target = target
        self.conditionName = conditionName
        self.targetName = targetName
    }

    /// Targets without a condition, for an unconditional flow (Dc = 0).
    public init(target: Tensor, targetName: String = "target") throws {
        try PairDataset.checkMatrix(target, name: targetName)
        self.condition = Tensor(shape: [target.shape[0], 0], scalars: [])
        self.target = target
        self.conditionName = "no condition"
        self.targetName = targetName
    }

    /// Loads a `target` `[N, D]` float32 `.npy` file, without a condition.
    public init(targetFile: URL) throws {
        try self.init(target: try PairDataset.loadMatrix(targetFile), targetName: targetFile.path)
    }

    /// Loads `condition` `[N, Dc]` and `target` `[N, D]` float32 `.npy` files.
    public init(conditionFile: URL, targetFile: URL) throws {
        let c = try PairDataset.loadMatrix(conditionFile)
        let t = try PairDataset.loadMatrix(targetFile)
        try self.init(condition: c, target: t, conditionName: conditionFile.path, targetName: targetFile.path)
    }

    /// Reads a float32 `[N, D]` `.npy` file and checks it is finite and non-empty.
    public static func loadMatrix(_ url: URL, allowEmpty: Bool = false) throws -> Tensor {
        let tensor = try NPY.readFloat32(url)
        try checkMatrix(tensor, name: url.path, allowEmpty: allowEmpty)
        return tensor
    }

    static func checkMatrix(_ t: Tensor, name: String, allowEmpty: Bool = false) throws {
        guard t.rank == 2 else {
            throw Net2NetError.data(path: name, problem: "expected a 2-D array [N, D], got shape \(t.shape)")
        }
        if !allowEmpty && t.shape[0] == 0 { throw Net2NetError.data(path: name, problem: "has no rows") }
        guard t.shape[1] > 0 else { throw Net2NetError.data(path: name, problem: "has zero features per row") }
        guard t.isFinite else {
            let index = t.scalars.firstIndex { !$0.isFinite }!
            throw Net2NetError.data(path: name,
                                    problem: "contains \(t.scalars[index]) at row \(index / t.shape[1]), column \(index % t.shape[1]); all values must be finite")
        }
    }

    /// A seeded split into (training, validation) index lists; the last
    /// `round(fraction·N)` rows of a seeded permutation are for validation.
    /// With `groups` that join rows, whole groups are held out instead, the
    /// last of a seeded permutation of the groups, until they hold at least
    /// `round(fraction·N)` rows; each list is in row order.
    public func split(validationFraction: Double, seed: UInt64) -> (training: [Int], validation: [Int]) {
        var generator = SeededGenerator(seed: seed ^ SeedStreams.validationSplit)
        let validationCount = Int((validationFraction * Double(count)).rounded())
        guard let groups, Set(groups).count < count else {
            let order = generator.permutation(count)
            return (Array(order.prefix(count - validationCount)), Array(order.suffix(validationCount)))
        }
        var rowsOf: [Int: [Int]] = [:]
        for (row, group) in groups.enumerated() { rowsOf[group, default: []].append(row) }
        let names = rowsOf.keys.sorted()
        var heldOut = Set<Int>()
        var rows = 0
        for index in generator.permutation(names.count).reversed() where rows < validationCount {
            heldOut.insert(names[index])
            rows += rowsOf[names[index]]!.count
        }
        let all = Array(0..<count)
        return (all.filter { !heldOut.contains(groups[$0]) }, all.filter { heldOut.contains(groups[$0]) })
    }
}
