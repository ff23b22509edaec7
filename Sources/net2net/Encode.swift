import ArgumentParser
import Experts
import Formats
import Foundation
import Net2Net
import TensorCore

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode queries with a pretrained expert: x → z_Φ.",
        discussion: """
        Experts: minilm — UTF-8 text, one sentence per line (--input - reads stdin) → \
        [N, 384] float32 sentence embeddings (all-MiniLM-L6-v2: mean pooling, L2-normalised; \
        inputs longer than 256 word pieces are truncated). The weights are fetched and cached \
        on first use (see `net2net assets`).

        efficientnet-lite0 — images: a .npy uint8 array [N, 224, 224, 3], PNG files, or \
        directories of PNGs (sorted by name); --input may be repeated. PNGs of another size are \
        resized to 224×224 (bilinear, half-pixel centres, no antialias); gray is replicated to \
        RGB and alpha is dropped. Input x = (u8 − 127)/128. → [N, 1280] pooled features, or \
        with --layer logits [N, 1000] ImageNet logits. --top K prints each image's K most \
        likely ImageNet classes (fetches the imagenet-classes asset).

        autoencoder — 28×28 gray images for our own autoencoder (models/autoencoder.safetensors, \
        or --checkpoint): .npy float32 [N, 1, 28, 28] in [-1, 1], .npy uint8 [N, 28, 28], or PNG \
        files/directories (resized to 28×28, gray = mean of R, G, B) → [N, 64] posterior means, \
        or with --sample draws z ~ q(z|x) (--seed).

        Examples:
          net2net encode --expert minilm --input captions.txt --output captions.npy
          net2net encode --expert autoencoder --input digits.npy --output z.npy
          net2net encode --expert efficientnet-lite0 --input photos/ --output z.npy --top 3
        """)

    @Option(help: "The expert: minilm, efficientnet-lite0 or autoencoder.") var expert: String
    @Option(help: "Input file (- for standard input); images: repeat for several files or directories.")
    var input: [String]
    @Option(help: "Output .npy file.") var output: String
    @Option(help: "Sentences or images per batch.") var batchSize: Int = 32
    @Option(help: "efficientnet-lite0: features (pooled, [N, 1280]) or logits ([N, 1000]).") var layer: String = "features"
    @Option(help: "efficientnet-lite0: print the K most likely ImageNet classes per image.") var top: Int = 0
    @Option(help: "autoencoder: a checkpoint other than the shipped one.") var checkpoint: String?
    @Flag(help: "autoencoder: draw z from the posterior instead of taking its mean.") var sample = false
    @Option(help: "autoencoder: seed for --sample.") var seed: UInt64 = 0
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard ["minilm", "efficientnet-lite0", "autoencoder"].contains(expert) else {
            throw ExpertError.badInput("unknown expert '\(expert)' for encode; available: minilm, efficientnet-lite0, autoencoder")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard output.hasSuffix(".npy") else { throw ExpertError.badInput("\(output): the output must be a .npy file") }
        if expert == "efficientnet-lite0" { return try encodeImages() }
        if expert == "autoencoder" {
            let (images, _) = try ImageInput.loadGray(input)
            let model = try ConvolutionalVAE.load(checkpoint.map(fileURL) ?? ShippedModels.autoencoder).model
            let z = try model.encode(images, sample: sample, seed: seed)
            try NPY.write(z, to: fileURL(output))
            note("wrote \(z.shape) → \(output)")
            return
        }
        guard input.count == 1 else { throw ValidationError("minilm reads one --input file") }
        let sentences = try Encode.readLines(input[0])
        let text = try TextExpert(store: AssetStore(), progress: { note("minilm: \($0)") })
        var rows: [Float] = []
        rows.reserveCapacity(sentences.count * TextExpert.dimension)
        var start = 0
        while start < sentences.count {
            let batch = Array(sentences[start..<min(sentences.count, start + batchSize)])
            rows += text.embed(batch).scalars
            start += batch.count
            if sentences.count > batchSize {
                FileHandle.standardError.write(Data("\rencoded \(start)/\(sentences.count)".utf8))
            }
        }
        if sentences.count > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }
        try NPY.write(Tensor(shape: [sentences.count, TextExpert.dimension], scalars: rows), to: fileURL(output))
        note("wrote [\(sentences.count), \(TextExpert.dimension)] → \(output)")
    }

    func encodeImages() throws {
        guard ["features", "logits"].contains(layer) else {
            throw ExpertError.badInput("--layer must be features or logits, not '\(layer)'")
        }
        guard top >= 0 && top <= EfficientNetLite.classCount else { throw ExpertError.badInput("--top must be in 0...1000") }
        let images = try ImageInput.load(input)
        let store = AssetStore()
        let model = try EfficientNetLite(store: store, progress: { note("efficientnet-lite0: \($0)") })
        let classes = top > 0 ? try ImageNetClasses(store: store, progress: { note("imagenet-classes: \($0)") }) : nil
        let plane = 224 * 224 * 3
        var rows: [Float] = []
        var start = 0
        while start < images.count {
            let count = min(batchSize, images.count - start)
            let x = ImageInput.modelInput(pixels: Array(images.pixels[(start * plane)..<((start + count) * plane)]),
                                          count: count, side: images.side)
            let features = try model.features(x)
            let logits = layer == "logits" || classes != nil ? model.classify(features: features) : nil
            rows += layer == "logits" ? logits!.scalars : features.scalars
            if let classes, let logits {
                for n in 0..<count {
                    let best = ImageNetClasses.top(top, logits: logits.scalars[(n * 1000)..<((n + 1) * 1000)])
                    print(images.names[start + n] + ": " + best.map {
                        "\(classes.names[$0.index]) (\(String(format: "%.3f", $0.probability)))"
                    }.joined(separator: "; "))
                }
            }
            start += count
            if images.count > batchSize { FileHandle.standardError.write(Data("\rencoded \(start)/\(images.count)".utf8)) }
        }
        if images.count > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }
        let width = layer == "logits" ? EfficientNetLite.classCount : EfficientNetLite.featureDimension
        try NPY.write(Tensor(shape: [images.count, width], scalars: rows), to: fileURL(output))
        note("wrote [\(images.count), \(width)] → \(output)")
    }

    /// The lines of a UTF-8 file (or stdin for "-"), without line ends; a
    /// final line end does not start another line. Invalid UTF-8 is an
    /// error naming the line.
    static func readLines(_ path: String) throws -> [String] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ExpertError.badInput("\(path): no such file")
            }
            guard !isDirectory.boolValue else { throw ExpertError.badInput("\(path): is a directory; give a text file") }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let name = path == "-" ? "standard input" : path
        var lines: [String] = []
        var pieces = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        for (index, piece) in pieces.enumerated() {
            var bytes = piece
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw ExpertError.badInput("\(name): line \(index + 1) is not valid UTF-8")
            }
            lines.append(line)
        }
        return lines
    }
}
