import Foundation
import TensorCore

/// Φ for text: the MiniLM sentence embedding (`TextExpert`) of each query,
/// z_Φ `[N, 384]`, unit length. Sentences are embedded `queriesPerCall` at a time
/// (each batch is padded to its longest sentence).
public final class MiniLMConditionEncoder: ConditionEncoder {
    public let expertDescription: ExpertDescription
    /// The tokenizer and encoder.
    public let model: TextExpert
    /// Sentences per encoder call.
    public var queriesPerCall = 64
    /// Progress of long inputs (over 256 sentences).
    let progress: (String) -> Void

    public init(model: TextExpert, description: ExpertDescription, progress: @escaping (String) -> Void = { _ in }) {
        self.model = model
        expertDescription = description
        self.progress = progress
    }

    public var conditionDimension: Int { TextExpert.dimension }

    public func encode(_ input: ExpertInput) throws -> Tensor {
        try checkKind(input)
        guard case .text(let sentences) = input else { return Tensor(zeros: [0, conditionDimension]) }
        var rows: [Float] = []
        rows.reserveCapacity(sentences.count * TextExpert.dimension)
        var start = 0
        while start < sentences.count {
            let batch = Array(sentences[start..<min(sentences.count, start + queriesPerCall)])
            rows += model.embed(batch).scalars
            start += batch.count
            if sentences.count > 256 && (start / queriesPerCall) % 40 == 0 { progress("embedded \(start)/\(sentences.count) captions") }
        }
        return Tensor(shape: [sentences.count, TextExpert.dimension], scalars: rows)
    }
}
