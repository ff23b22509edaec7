import Foundation

/// The names of the 1000 ImageNet-1k classes in class-index order (the
/// order of EfficientNet's and ResNet's logits), from the `imagenet-classes` asset:
/// `imagenet_synsets.txt` (one WordNet id per line, in index order) and
/// `imagenet_synset_to_lemma.txt` (`id<TAB>lemma, lemma…`).
public struct ImageNetClasses: Sendable {
    /// `names[k]`: the lemmas of class k, e.g. "tabby, tabby cat".
    public let names: [String]
    /// The number of ImageNet-1k classes.
    public static let count = 1000

    /// Reads the two files of the asset's folder.
    public init(directory: URL) throws {
        func lines(_ name: String) throws -> [Substring] {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path),
                  let text = String(data: data, encoding: .utf8) else {
                throw ExpertError.badAsset(path: url.path, problem: "missing or not UTF-8")
            }
            return text.split(whereSeparator: \.isNewline)
        }
        var lemmas: [Substring: String] = [:]
        for line in try lines("imagenet_synset_to_lemma.txt") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            lemmas[line[..<tab]] = String(line[line.index(after: tab)...])
        }
        let synsets = try lines("imagenet_synsets.txt")
        guard synsets.count == ImageNetClasses.count else {
            throw ExpertError.badAsset(path: directory.appendingPathComponent("imagenet_synsets.txt").path,
                                       problem: "\(synsets.count) classes, expected \(ImageNetClasses.count)")
        }
        names = try synsets.map { id in
            guard let lemma = lemmas[id] else {
                throw ExpertError.badAsset(path: directory.appendingPathComponent("imagenet_synset_to_lemma.txt").path,
                                           problem: "no name for synset \(id)")
            }
            return lemma
        }
    }

    /// Loads the `imagenet-classes` asset, fetching it first if needed.
    public init(store: AssetStore, progress: (String) -> Void = { _ in }) throws {
        try self.init(directory: try store.directory(for: "imagenet-classes", progress: progress))
    }

    /// The `k` most likely classes of one row of logits, best first, with softmax probabilities.
    public static func top(_ k: Int, logits: ArraySlice<Float>) -> [(index: Int, probability: Float)] {
        let peak = logits.max() ?? 0
        let total = logits.reduce(Float(0)) { $0 + Foundation.exp($1 - peak) }
        return logits.indices.sorted { logits[$0] > logits[$1] }.prefix(k).map {
            ($0 - logits.startIndex, Foundation.exp(logits[$0] - peak) / total)
        }
    }
}
