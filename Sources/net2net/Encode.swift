import ArgumentParser
import Datasets
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

        mpnet — the same input → [N, 768] float32 sentence embeddings (all-mpnet-base-v2, the \
        paper's larger text expert: mean pooling, L2-normalised; inputs longer than 384 word \
        pieces are truncated; a 404 MB download on first use).

        efficientnet-lite0 — images: a .npy uint8 array [N, 224, 224, 3], PNG files, or \
        directories of PNGs (sorted by name); --input may be repeated. PNGs of another size are \
        resized to 224×224 (bilinear, half-pixel centres, no antialias); gray is replicated to \
        RGB and alpha is dropped. Input x = (u8 − 127)/128. → [N, 1280] pooled features, or \
        with --layer logits [N, 1000] ImageNet logits. --top K prints each image's K most \
        likely ImageNet classes (fetches the imagenet-classes asset).

        resnet50 — the same image input, with --weights FILE: a torchvision ResNet-50 state_dict \
        (.pth; e.g. resnet50-11ad3fa6.pth of torchvision's ResNet50_Weights, or the \
        Stylized-ImageNet ResNet-50 of Geirhos et al.), which net2net does not fetch. Input \
        x = (u8/255 − mean)/std with ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, \
        0.224, 0.225); PNGs are resized to 224×224 as above (no centre crop: crop first for \
        torchvision's resize-256-crop-224 evaluation). → [N, 2048] avgpool features, or with \
        --layer logits [N, 1000]; --top K as above.

        hed — the HED edge detector (BSDS500 weights): the same image files as efficientnet-lite0, \
        at any size (all images the size of the first, or --size S to resize each to S×S) → edge \
        probabilities [N, 1, H, W] in [0, 1] at the input's size, as .npy, or as a PNG grid \
        (edges bright) when --output ends in .png.

        autoencoder — 28×28 gray images for our own autoencoder (models/autoencoder.safetensors, \
        or --checkpoint): .npy float32 [N, 1, 28, 28] in [-1, 1], .npy uint8 [N, 28, 28], or PNG \
        files/directories (resized to 28×28, gray = mean of R, G, B) → [N, 64] posterior means, \
        or with --sample draws z ~ q(z|x) (--seed). Instead of --input, --dataset train (or test) \
        encodes the autoencoder's own images: Fashion-MNIST + the MNIST-5k split (64 500 or \
        10 500, fetched on first use), e.g. to fit a learned prior (`net2net autoencoder \
        evaluate --help`).

        Examples:
          net2net encode --expert minilm --input captions.txt --output captions.npy
          net2net encode --expert autoencoder --input digits.npy --output z.npy
          net2net encode --expert autoencoder --dataset train --output z_train.npy
          net2net encode --expert efficientnet-lite0 --input photos/ --output z.npy --top 3
          net2net encode --expert resnet50 --weights resnet50-11ad3fa6.pth --input photos/ --output z.npy
          net2net encode --expert hed --input photo.png --output edges.png
        """)

    @Option(help: "The expert: minilm, mpnet, efficientnet-lite0, resnet50, hed or autoencoder.") var expert: String
    @Option(help: "Input file (- for standard input); images: repeat for several files or directories.")
    var input: [String] = []
    @Option(help: "autoencoder: encode its training or test images (train, test) instead of --input.")
    var dataset: DatasetSplit?
    @Option(help: "Output .npy file (hed: .npy or .png).") var output: String
    @Option(help: "Sentences or images per batch.") var batchSize: Int = 32
    @Option(help: "Image experts: features (pooled; also called avgpool) or logits ([N, 1000]).")
    var layer: String = "features"
    @Option(help: "Image experts: print the K most likely ImageNet classes per image.") var top: Int = 0
    @Option(help: "resnet50: its weights, a torchvision state_dict (.pth).") var weights: String?
    @Option(help: "hed: resize every image to this many pixels square first.") var size: Int?
    @Option(help: "autoencoder: a checkpoint other than the shipped one.") var checkpoint: String?
    @Flag(help: "autoencoder: draw z from the posterior instead of taking its mean.") var sample = false
    @Option(help: "autoencoder: seed for --sample.") var seed: UInt64 = 0
    @OptionGroup var compute: ComputeOptions

    /// The experts `encode` takes: condition encoders of text or images, and image encoders.
    static var expertNames: [String] {
        let roles: Set<ExpertDescription.Role> = [.conditionEncoder, .imageEncoder]
        let unread = Set(ExpertRegistry.names(reading: .classLabel))
        return ExpertRegistry.names(roles).filter { !unread.contains($0) } + [ExpertName.hed]
    }

    func run() throws {
        try compute.apply()
        guard Encode.expertNames.contains(expert) else {
            throw ExpertError.unknownExpert(expert, role: "expert", known: Encode.expertNames)
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let dataset {
            guard expert == ExpertName.autoencoder else {
                throw ValidationError("--dataset is for --expert autoencoder (its own Fashion-MNIST + MNIST-5k images)")
            }
            guard input.isEmpty else { throw ValidationError("give either --input or --dataset, not both") }
        } else if input.isEmpty {
            throw ValidationError("give --input (or, for the autoencoder, --dataset train or test)")
        }
        if expert == ExpertName.hed { return try encodeEdges() }
        guard output.hasSuffix(".npy") else { throw ExpertError.badInput("\(output): the output must be a .npy file") }
        let loading = ExpertLoading(progress: { note($0) }, autoencoderCheckpoint: checkpoint.map(fileURL),
                                    weights: weights.map(fileURL))
        let description = try ExpertRegistry.description(named: expert, roles: [.conditionEncoder, .imageEncoder])
        if let needed = description.weightsNeeded, weights == nil {
            throw ExpertError.weightsRequired(expert: expert, needed: needed)
        }
        if description.role == .imageEncoder {
            let shape = description.imageShape ?? []
            let images = try dataset.map { try ImageDataset.fashionAndDigits($0, store: AssetStore(), progress: { note($0) }).images }
                ?? ImageInput.loadGray(input, side: shape.count == 3 ? shape[2] : 28).images
            let encoder = try ExpertRegistry.imageEncoder(named: expert, loading: loading)
            let z = try encoder.encode(images, sampleSeed: sample ? seed : nil)
            try NPY.write(z, to: fileURL(output))
            note("wrote \(z.shape)" + (dataset.map { " (the \($0.rawValue) images)" } ?? "") + " → \(output)")
            return
        }
        // Inputs are read before the expert is loaded (and perhaps fetched).
        func loadEncoder() throws -> any ConditionEncoder {
            let encoder = try ExpertRegistry.conditionEncoder(named: expert, loading: loading)
            encoder.queriesPerCall = batchSize
            return encoder
        }
        if description.inputKind == .image { return try encodeImages(loadEncoder) }
        guard input.count == 1 else { throw ValidationError("\(expert) reads one --input file") }
        let sentences = try Encode.readLines(input[0])
        let encoder = try loadEncoder()
        var rows: [Float] = []
        rows.reserveCapacity(sentences.count * encoder.conditionDimension)
        var start = 0
        while start < sentences.count {
            let batch = Array(sentences[start..<min(sentences.count, start + batchSize)])
            rows += try encoder.encode(.text(batch)).scalars
            start += batch.count
            if sentences.count > batchSize {
                FileHandle.standardError.write(Data("\rencoded \(start)/\(sentences.count)".utf8))
            }
        }
        if sentences.count > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }
        try NPY.write(Tensor(shape: [sentences.count, encoder.conditionDimension], scalars: rows), to: fileURL(output))
        note("wrote [\(sentences.count), \(encoder.conditionDimension)] → \(output)")
    }

    func encodeImages(_ loadEncoder: () throws -> any ConditionEncoder) throws {
        guard ["features", "avgpool", "logits"].contains(layer) else {
            throw ExpertError.badInput("--layer must be features (avgpool) or logits, not '\(layer)'")
        }
        guard top >= 0 && top <= ImageNetClasses.count else { throw ExpertError.badInput("--top must be in 0...1000") }
        let images = try ImageInput.load(input)
        let encoder = try loadEncoder()
        // Logits need the network's classifier; class names an ImageNet-1k one.
        let head = (encoder as? ImageFeatureConditionEncoder)?.model
        guard head != nil || (layer != "logits" && top == 0) else {
            throw ExpertError.badInput("\(expert) has no class logits; use --layer features without --top")
        }
        if top > 0, let head, head.classCount != ImageNetClasses.count {
            throw ExpertError.badInput("--top needs ImageNet's \(ImageNetClasses.count) classes; these weights have \(head.classCount)")
        }
        let classes = top > 0 ? try ImageNetClasses(store: AssetStore(), progress: { note("imagenet-classes: \($0)") }) : nil
        var rows: [Float] = []
        var start = 0
        while start < images.count {
            let count = min(batchSize, images.count - start)
            let features = try encoder.encode(.pixels(images.images(start..<(start + count))))
            let logits = layer == "logits" || classes != nil ? head?.classify(features: features) : nil
            rows += layer == "logits" ? logits!.scalars : features.scalars
            if let classes, let logits {
                for n in 0..<count {
                    let classCount = ImageNetClasses.count
                    let best = ImageNetClasses.top(top, logits: logits.scalars[(n * classCount)..<((n + 1) * classCount)])
                    print(images.names[start + n] + ": " + best.map {
                        "\(classes.names[$0.index]) (\(String(format: "%.3f", $0.probability)))"
                    }.joined(separator: "; "))
                }
            }
            start += count
            if images.count > batchSize { FileHandle.standardError.write(Data("\rencoded \(start)/\(images.count)".utf8)) }
        }
        if images.count > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }
        let width = layer == "logits" ? head!.classCount : encoder.conditionDimension
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

extension DatasetSplit: ExpressibleByArgument {}
