/// Where each sequence of a batch lives in the encoder's activations.
///
/// Activations are row-major `[rows, hidden]` with the sequences one after
/// another. Padded (the way PyTorch runs a batch), every sequence takes
/// `longest` rows and keys past its real length are masked; packed, each
/// takes exactly its real length and nothing needs masking. Both give the
/// same embeddings; packed does no work on padding.
struct SequenceBatch {
    /// Real token count of each sequence.
    let lengths: [Int]
    /// First activation row of each sequence.
    let rowStarts: [Int]
    /// Activation rows of each sequence (`longest` when padded, else its length).
    let rowCounts: [Int]
    /// Total activation rows.
    let rowTotal: Int
    /// Offset of each sequence's attention scores `[heads, rowCount, rowCount]`.
    let scoreStarts: [Int]
    /// Total attention score elements.
    let scoreTotal: Int

    init(lengths: [Int], padded: Bool, headCount: Int) {
        self.lengths = lengths
        let longest = lengths.max() ?? 0
        rowCounts = padded ? lengths.map { _ in longest } : lengths
        var rowStarts = [Int](), scoreStarts = [Int]()
        var row = 0, score = 0
        for count in rowCounts {
            rowStarts.append(row)
            scoreStarts.append(score)
            row += count
            score += headCount * count * count
        }
        self.rowStarts = rowStarts
        self.scoreStarts = scoreStarts
        rowTotal = row
        scoreTotal = score
    }

    var count: Int { lengths.count }
}
