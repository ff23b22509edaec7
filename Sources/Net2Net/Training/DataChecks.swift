import Foundation
import TensorCore

/// Something about a column of the training pairs worth saying before
/// training starts.
public struct DataFinding: Sendable, Equatable {
    /// An error stops training (it cannot work); a warning only informs.
    public let isError: Bool
    /// The array's name (its file path when loaded from a file).
    public let path: String
    public let problem: String
}

extension PairDataset {
    /// Magnitudes above this make the first steps unstable: standardise first.
    public static let largeValue: Float = 1e6

    /// Column checks (non-finite values are refused when the pairs are made):
    /// - a constant target column is an error: its density is a spike, so
    ///   the likelihood grows without bound (losses near 10¹⁰) and nothing is learnt;
    /// - a constant condition column is a warning: it carries no information;
    /// - values beyond `largeValue` in magnitude are a warning.
    public var findings: [DataFinding] {
        var found: [DataFinding] = []
        for (tensor, name, isTarget) in [(target, targetName, true), (condition, conditionName, false)] {
            let columns = tensor.shape[1], rows = tensor.shape[0]
            var lowest = [Float](repeating: .infinity, count: columns)
            var highest = [Float](repeating: -.infinity, count: columns)
            tensor.scalars.withUnsafeBufferPointer { x in
                for r in 0..<rows {
                    for c in 0..<columns {
                        let v = x[r * columns + c]
                        lowest[c] = min(lowest[c], v)
                        highest[c] = max(highest[c], v)
                    }
                }
            }
            let constant = (0..<columns).filter { lowest[$0] == highest[$0] }
            if rows > 1, !constant.isEmpty {
                let list = constant.prefix(8).map { "\($0) (\(lowest[$0]))" }.joined(separator: ", ")
                    + (constant.count > 8 ? " and \(constant.count - 8) more" : "")
                found.append(isTarget
                    ? DataFinding(isError: true, path: name, problem: "column \(list) has the same value in every row; a flow cannot model a constant dimension (its likelihood grows without bound) — drop the column or add small noise")
                    : DataFinding(isError: false, path: name, problem: "column \(list) has the same value in every row and carries no information"))
            }
            let large = (0..<columns).filter { max(abs(lowest[$0]), abs(highest[$0])) > PairDataset.largeValue }
            if let first = large.first {
                let peak = max(abs(lowest[first]), abs(highest[first]))
                found.append(DataFinding(isError: false, path: name,
                                         problem: "\(large.count) column(s) hold values beyond \(PairDataset.largeValue) in magnitude (column \(first) reaches \(peak)); training may diverge — standardise the columns (subtract the mean, divide by the standard deviation)"))
            }
        }
        return found
    }

    /// Throws the first error of `findings`.
    public func checkTrainable() throws {
        if let error = findings.first(where: \.isError) {
            throw Net2NetError.data(path: error.path, problem: error.problem)
        }
    }
}
