/// Names, shapes and offsets of tensors packed into one flat buffer.
///
/// Parameter names are dotted and PyTorch-like
/// (`blocks.3.coupling.s0.layers.2.weight`) so checkpoints diff and load by
/// name. Entries are laid out in the order they are added; a layer that
/// wants two tensors adjacent (for one fused GEMM) adds them in a row.
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// The tensor's shape as named (PyTorch's `[out, in]` for weights).
        public let shape: [Int]
        public let offset: Int
        /// A rank-2 tensor kept in memory as its transpose `[shape[1], shape[0]]`
        /// (so that a GEMM can read it untransposed); checkpoints still hold `shape`.
        public var storedTransposed = false
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    /// The names in `entries`, so that a duplicate is found without a scan.
    private var names: Set<String> = []
    /// The total element count.
    public private(set) var count = 0

    public init() {}

    /// Appends a tensor and returns its offset. Offsets are rounded up to a
    /// multiple of 16 elements (64 bytes) unless `packed` is true, which keeps
    /// it directly adjacent to the previous entry.
    @discardableResult
    public mutating func add(_ name: String, shape: [Int], packed: Bool = false, storedTransposed: Bool = false) -> Int {
        precondition(names.insert(name).inserted, "duplicate parameter \(name)")
        precondition(!storedTransposed || shape.count == 2, "only matrices can be stored transposed")
        let offset = packed ? count : (count + 15) & ~15
        entries.append(Entry(name: name, shape: shape, offset: offset, storedTransposed: storedTransposed))
        count = offset + shape.reduce(1, *)
        return offset
    }

    /// The element ranges of the tensors with fewer than two dimensions
    /// (biases, ActNorm's and BatchNorm's parameters), sorted and merged
    /// where adjacent: what weight decay should leave alone.
    public var vectorRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        for entry in entries.sorted(by: { $0.offset < $1.offset }) where entry.shape.count < 2 && entry.count > 0 {
            let range = entry.offset..<(entry.offset + entry.count)
            if let last = ranges.last, last.upperBound == range.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
        }
        return ranges
    }

    /// The entry called `name`, if any.
    public func entry(_ name: String) -> Entry? {
        entries.first { $0.name == name }
    }
}
