import Foundation
import TensorCore

/// Φ for class labels: the one-hot vector of each label (`LabelExpert`), z_Φ `[N, 20]`.
public final class LabelConditionEncoder: ConditionEncoder {
    public let expertDescription: ExpertDescription
    /// Unused: one-hot codes need no batching.
    public var queriesPerCall = 1

    public init(description: ExpertDescription) {
        expertDescription = description
    }

    public var conditionDimension: Int { LabelExpert.classCount }

    public func encode(_ input: ExpertInput) throws -> Tensor {
        try checkKind(input)
        guard case .labels(let labels) = input else { return Tensor(zeros: [0, conditionDimension]) }
        return try LabelExpert.encode(labels)
    }
}
