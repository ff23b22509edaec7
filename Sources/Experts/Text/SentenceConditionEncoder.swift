import Foundation
import TensorCore

/// A sentence-embedding model: sentences in, one unit-length row each out
/// (`[N, embeddingDimension]`). MiniLM (`TextExpert`) and MPNet
/// (`MPNetTextExpert`) are two.
public protocol SentenceEmbedder: AnyObject {
    var embeddingDimension: Int { get }
    func embed(_ sentences: [String]) -> Tensor
}

extension TextExpert: SentenceEmbedder {
    public var embeddingDimension: Int { TextExpert.dimension }
}

extension MPNetTextExpert: SentenceEmbedder {
    public var embeddingDimension: Int { MPNetTextExpert.dimension }
}

/// Φ for text: a sentence embedding of each query, z_Φ `[N, D]`, unit
/// length. Sentences are embedded `queriesPerCall` at a time (each batch is
/// padded to its longest sentence).
public final class SentenceConditionEncoder: ConditionEncoder {
    public let expertDescription: ExpertDescription
    /// The tokenizer and encoder.
    public let model: any SentenceEmbedder
    /// Sentences per encoder call.
    public var queriesPerCall = 64
    /// Progress of long inputs (over 256 sentences).
    let progress: (String) -> Void

    public init(model: any SentenceEmbedder, description: ExpertDescription, progress: @escaping (String) -> Void = { _ in }) {
        self.model = model
        expertDescription = description
        self.progress = progress
    }

    public var conditionDimension: Int { model.embeddingDimension }

    public func encode(_ input: ExpertInput) throws -> Tensor {
        try checkKind(input)
        guard case .text(let sentences) = input else { return Tensor(zeros: [0, conditionDimension]) }
        let D = model.embeddingDimension
        var rows: [Float] = []
        rows.reserveCapacity(sentences.count * D)
        var start = 0
        while start < sentences.count {
            let batch = Array(sentences[start..<min(sentences.count, start + queriesPerCall)])
            rows += model.embed(batch).scalars
            start += batch.count
            if sentences.count > 256 && (start / queriesPerCall) % 40 == 0 { progress("embedded \(start)/\(sentences.count) captions") }
        }
        return Tensor(shape: [sentences.count, D], scalars: rows)
    }
}
