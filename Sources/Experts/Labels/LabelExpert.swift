import Datasets
import Foundation
import TensorCore

/// The paper's label expert: a class label as a one-hot vector, z_Φ = e_y.
///
/// Classes follow `EvaluationClassifier`'s 20-class scheme: 0–9 the Fashion-MNIST
/// classes, 10–19 the digits 0–9. The output is `[N, 20]` float32 with a
/// single 1 per row.
public enum LabelExpert {
    public static let classCount = EvaluationClassifier.classCount

    /// One-hot rows `[N, 20]` of `labels`; every label must be in 0..<20.
    public static func encode(_ labels: [Int]) throws -> Tensor {
        let K = classCount
        var x = Tensor(zeros: [labels.count, K])
        for (row, label) in labels.enumerated() {
            guard label >= 0 && label < K else {
                throw ExpertError.badInput("label \(label) (row \(row)) is outside 0..<\(K): 0–9 are fashion classes, 10–19 the digits 0–9")
            }
            x.scalars[row * K + label] = 1
        }
        return x
    }

    /// One-hot rows `[N, 20]` of a data set's classes (`EvaluationClassifier.labels(of:)`).
    public static func encode(_ data: ImageDataset) throws -> Tensor {
        try encode(EvaluationClassifier.labels(of: data))
    }

    /// One-hot rows `[N, 20]` of class names (see `label(named:)`).
    public static func encode(classNames: [String]) throws -> Tensor {
        try encode(classNames.map(label(named:)))
    }

    /// The label of a class name. Matching ignores case, and treats `-`, `_`
    /// and `/` as spaces; it accepts the names of `EvaluationClassifier.classNames`
    /// ("T-shirt/top", "ankle boot", "digit 7"), their plurals ("trousers",
    /// "sneakers"), "t-shirt", "top", a bare digit ("7") or a spelled one ("seven").
    public static func label(named name: String) throws -> Int {
        // A number outside 0–19 (e.g. "-1", which normalising would turn into "1") is refused.
        if let number = Int(name.trimmingCharacters(in: .whitespaces)), !(0..<EvaluationClassifier.classCount).contains(number) {
            throw ExpertError.badInput("class number \(number) is out of range: 0–9 are digits, 10–19 the classes they number")
        }
        let key = normalized(name)
        if let label = aliases[key] { return label }
        // Class numbers: 0–9 are read as digits (above), 10–19 as the classes they number.
        if let number = Int(key), (10..<EvaluationClassifier.classCount).contains(number) { return number }
        if key.hasSuffix("s"), let label = aliases[String(key.dropLast())] { return label }
        throw ExpertError.badInput("unknown class name '\(name)'; known: \(EvaluationClassifier.classNames.joined(separator: ", "))")
    }

    static func normalized(_ name: String) -> String {
        name.lowercased()
            .map { "-_/".contains($0) ? " " : $0 }
            .reduce(into: "") { $0.append($1) }
            .split(separator: " ").joined(separator: " ")
    }

    static let digitWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    static let aliases: [String: Int] = {
        var table: [String: Int] = [:]
        for (label, name) in EvaluationClassifier.classNames.enumerated() { table[normalized(name)] = label }
        table["t shirt"] = 0
        table["top"] = 0
        table["tshirt"] = 0
        for d in 0...9 {
            table["\(d)"] = 10 + d
            table[digitWords[d]] = 10 + d
            table["digit \(digitWords[d])"] = 10 + d
        }
        return table
    }()
}
