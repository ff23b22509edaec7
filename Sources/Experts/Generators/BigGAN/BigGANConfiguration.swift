import Foundation

/// The `config.json` of a `pytorch-pretrained-biggan` model (its
/// `BigGANConfig`): the published 128, 256 and 512 generators differ only here.
///
/// `layers[i] = (upsample, in, out)` in units of `channel_width`: GenBlock i
/// maps `in·ch` to `out·ch` channels, doubling the resolution when
/// `upsample`; self-attention runs before GenBlock `attention_layer_position`.
/// `gen_z` makes a 4×4 map of `16·ch` channels from the condition vector
/// `[z, class embedding]` of width `2·z_dim`; BatchNorm statistics are kept
/// for `n_stats` truncation values evenly spaced in [0, 1].
public struct BigGANConfiguration: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        public let upsample: Bool
        public let inputMultiple: Int
        public let outputMultiple: Int
    }

    public let outputSize: Int
    public let latentDimension: Int
    public let channelWidth: Int
    public let classCount: Int
    public let layers: [Layer]
    public let attentionPosition: Int
    public let epsilon: Float
    public let statisticsCount: Int

    /// Reads and checks `url`; problems are `ExpertError.badAsset` naming the file and the key.
    public init(contentsOf url: URL) throws {
        func bad(_ problem: String) -> ExpertError { .badAsset(path: url.path, problem: problem) }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw bad("no such file (the model's config.json is expected beside its weights)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw bad("not a JSON object")
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let number = json[key] as? NSNumber, let value = Int(exactly: number.doubleValue) else {
                throw bad("'\(key)' is missing or not an integer")
            }
            guard range.contains(value) else { throw bad("'\(key)' is \(value), expected \(range.lowerBound)…\(range.upperBound)") }
            return value
        }
        outputSize = try integer("output_dim", 4...4096)
        latentDimension = try integer("z_dim", 1...4096)
        channelWidth = try integer("channel_width", 1...1024)
        classCount = try integer("num_classes", 1...100_000)
        attentionPosition = try integer("attention_layer_position", 0...1000)
        statisticsCount = try integer("n_stats", 2...10_000)
        guard let eps = json["eps"] as? NSNumber, eps.doubleValue > 0, eps.doubleValue < 1 else {
            throw bad("'eps' is missing or not in (0, 1)")
        }
        epsilon = eps.floatValue
        guard let rows = json["layers"] as? [[Any]], !rows.isEmpty, rows.count <= 100 else {
            throw bad("'layers' is missing or not a list of [upsample, in, out]")
        }
        layers = try rows.enumerated().map { index, row in
            guard row.count == 3, let up = row[0] as? Bool, let input = (row[1] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }),
                  let output = (row[2] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }),
                  (1...64).contains(input), (1...64).contains(output) else {
                throw bad("'layers'[\(index)] is not [upsample, in, out] with channel multiples in 1…64")
            }
            return Layer(upsample: up, inputMultiple: input, outputMultiple: output)
        }
        try checkStructure(bad)
    }

    /// What the package's model code silently assumes: the blocks chain, a
    /// narrowing block halves its channels (its shortcut keeps the first
    /// half), the image ends at `channel_width` channels and `output_dim` pixels.
    func checkStructure(_ bad: (String) -> ExpertError) throws {
        guard layers[0].inputMultiple == 16 else { throw bad("'layers'[0] must read 16 channel widths (gen_z's output)") }
        for (index, layer) in layers.enumerated() {
            if index > 0 && layer.inputMultiple != layers[index - 1].outputMultiple {
                throw bad("'layers'[\(index)] reads \(layer.inputMultiple) channel widths, the previous block writes \(layers[index - 1].outputMultiple)")
            }
            if layer.outputMultiple != layer.inputMultiple && 2 * layer.outputMultiple != layer.inputMultiple {
                throw bad("'layers'[\(index)] must keep or halve its channels (its shortcut drops half of them)")
            }
            if (layer.inputMultiple * channelWidth) % 4 != 0 {
                throw bad("'layers'[\(index)]: \(layer.inputMultiple * channelWidth) channels are not divisible by 4 (the bottleneck)")
            }
        }
        guard layers.last!.outputMultiple == 1 else { throw bad("the last of 'layers' must write 1 channel width (conv_to_rgb's input)") }
        guard channelWidth >= 3 else { throw bad("'channel_width' must be at least 3 (conv_to_rgb keeps 3 of its channels)") }
        let upsamples = layers.filter(\.upsample).count
        guard upsamples < 12, 4 << upsamples == outputSize else {
            throw bad("'output_dim' is \(outputSize), but 'layers' make \(upsamples < 12 ? 4 << upsamples : 0)-pixel images")
        }
        if let attention = attentionChannels, attention % 8 != 0 {
            throw bad("self-attention at 'layers'[\(attentionPosition)] has \(attention) channels, not divisible by 8")
        }
    }

    /// Channels where self-attention runs (nil when the position is past the last block).
    var attentionChannels: Int? {
        attentionPosition < layers.count ? layers[attentionPosition].inputMultiple * channelWidth : nil
    }
}
