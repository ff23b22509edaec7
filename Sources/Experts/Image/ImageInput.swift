import Formats
import Foundation
import TensorCore

/// Images for the image expert: files to pixels, pixels to the model input.
///
/// Accepted files: `.npy` uint8 `[N, side, side, 3]` (used as is), PNG files,
/// and directories (their `.png` files, sorted by name). PNGs: 8-bit gray is
/// replicated to RGB, RGB is used as is, RGBA (and gray + alpha) drop the
/// alpha channel, keeping the stored colour; 16-bit is reduced to 8. A PNG
/// of another size is resized to `side × side` with `resizeBilinear`, then
/// rounded to bytes.
public enum ImageInput {
    /// A batch of RGB images, `[count, side, side, 3]` bytes, with a name per image.
    public struct Batch: Sendable {
        public var pixels: [UInt8]
        public var count: Int
        public var side: Int
        /// The file of each image (`file.npy[3]` for arrays).
        public var names: [String]

        public init(pixels: [UInt8], count: Int, side: Int, names: [String]) {
            self.pixels = pixels
            self.count = count
            self.side = side
            self.names = names
        }

        /// An empty batch of images `side × side`.
        public init(side: Int) {
            self.init(pixels: [], count: 0, side: side, names: [])
        }

        /// The images `range` of this batch.
        public func images(_ range: Range<Int>) -> Batch {
            let size = side * side * 3
            return Batch(pixels: Array(pixels[(range.lowerBound * size)..<(range.upperBound * size)]), count: range.count,
                         side: side, names: Array(names[range]))
        }
    }

    /// Loads every image of `paths` (in order) at `side × side`.
    public static func load(_ paths: [String], side: Int = EfficientNetLite.imageSize) throws -> Batch {
        var batch = Batch(pixels: [], count: 0, side: side, names: [])
        for path in try imageFiles(paths) {
            if path.lowercased().hasSuffix(".npy") {
                try appendArray(path, to: &batch)
            } else {
                try appendPNG(path, to: &batch)
            }
        }
        return batch
    }

    /// `paths` with each directory replaced by its `.png` files, sorted by name;
    /// a missing path or a directory without PNGs is an error naming it.
    static func imageFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ExpertError.badInput("\(path): no such file or directory")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.lowercased().hasSuffix(".png") }.sorted()
            guard !names.isEmpty else { throw ExpertError.badInput("\(path): the directory holds no .png files") }
            files += names.map { (path as NSString).appendingPathComponent($0) }
        }
        return files
    }

    static func appendArray(_ path: String, to batch: inout Batch) throws {
        let array = try NPY.read(URL(fileURLWithPath: path))
        let side = batch.side
        guard case .uint8(let bytes) = array.storage else {
            throw ExpertError.badInput("\(path): images must be a uint8 array [N, \(side), \(side), 3]")
        }
        guard array.shape.count == 4, array.shape[1] == side, array.shape[2] == side else {
            throw ExpertError.badInput("\(path): images must be [N, \(side), \(side), 3], got \(array.shape)")
        }
        guard array.shape[3] == 3 else {
            throw ExpertError.badInput("\(path): images must have 3 channels (RGB) in the last axis, got \(array.shape[3])")
        }
        batch.pixels += bytes
        batch.names += (0..<array.shape[0]).map { "\(path)[\($0)]" }
        batch.count += array.shape[0]
    }

    static func appendPNG(_ path: String, to batch: inout Batch) throws {
        append(try readPNG(path), name: path, to: &batch)
    }

    /// The PNG file `path` (alpha dropped, keeping the stored colour), or
    /// `ExpertError.badInput` naming the file and the problem.
    public static func readPNG(_ path: String) throws -> PNGImage {
        guard let data = FileManager.default.contents(atPath: path),
              data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw ExpertError.badInput("\(path): not a PNG file (images are PNG files, directories of PNGs, or .npy uint8 [N, H, W, 3])")
        }
        do {
            return try PNGImage.read(URL(fileURLWithPath: path), alpha: .drop)
        } catch {
            throw ExpertError.badInput((error as? LocalizedError)?.errorDescription ?? "\(path): \(error)")
        }
    }

    /// Adds a decoded image (a file's, or an upload's) to `batch`, resized to
    /// its side as a PNG file of it would be.
    public static func append(_ image: PNGImage, name: String, to batch: inout Batch) {
        batch.pixels += resized(image, height: batch.side, width: batch.side)
        batch.names.append(name)
        batch.count += 1
    }

    /// The image's bytes `[height, width, 3]`: as stored when it has that
    /// size, else `resizeBilinear` per channel, rounded and clamped to bytes.
    static func resized(_ image: PNGImage, height: Int, width: Int) -> [UInt8] {
        if image.width == width && image.height == height { return image.pixels }
        let planar = (0..<3).flatMap { c in (0..<(image.width * image.height)).map { Float(image.pixels[3 * $0 + c]) } }
        let resized = resizeBilinear(planar, channels: 3, height: image.height, width: image.width,
                                     toHeight: height, toWidth: width)
        var bytes = [UInt8](repeating: 0, count: height * width * 3)
        for c in 0..<3 {
            for p in 0..<(height * width) {
                bytes[3 * p + c] = UInt8(max(0, min(255, resized[c * height * width + p].rounded())))
            }
        }
        return bytes
    }

    /// Bilinear resize of planar images `[channels, height, width]` →
    /// `[channels, toHeight, toWidth]`, PyTorch's `interpolate(mode="bilinear",
    /// align_corners=False)` without antialias: output pixel centres map to
    /// `src = (dst + ½)·in/out − ½`, clamped below at 0; the two neighbours
    /// `⌊src⌋` and `min(⌊src⌋ + 1, in − 1)` are mixed by the fractional part.
    public static func resizeBilinear(_ x: [Float], channels: Int, height: Int, width: Int,
                                      toHeight: Int, toWidth: Int) -> [Float] {
        precondition(x.count == channels * height * width && toHeight > 0 && toWidth > 0)
        func taps(_ outputs: Int, _ inputs: Int) -> [(Int, Int, Float)] {
            let scale = Float(inputs) / Float(outputs)
            return (0..<outputs).map { d in
                let source = max(0, (Float(d) + 0.5) * scale - 0.5)
                let low = min(Int(source), inputs - 1)
                return (low, min(low + 1, inputs - 1), source - Float(low))
            }
        }
        let rows = taps(toHeight, height), cols = taps(toWidth, width)
        var y = [Float](repeating: 0, count: channels * toHeight * toWidth)
        for c in 0..<channels {
            let plane = c * height * width
            for (i, (r0, r1, a)) in rows.enumerated() {
                for (j, (q0, q1, b)) in cols.enumerated() {
                    let top = (1 - b) * x[plane + r0 * width + q0] + b * x[plane + r0 * width + q1]
                    let bottom = (1 - b) * x[plane + r1 * width + q0] + b * x[plane + r1 * width + q1]
                    y[(c * toHeight + i) * toWidth + j] = (1 - a) * top + a * bottom
                }
            }
        }
        return y
    }

    /// The model input `[N, 3, side, side]` from pixels `[N, side, side, 3]`,
    /// normalised as `normalization` says (EfficientNet-Lite: TensorFlow's `(u8 − 127)/128`).
    public static func modelInput(_ batch: Batch, normalization: PixelNormalization = .tensorFlow) -> Tensor {
        modelInput(pixels: batch.pixels, count: batch.count, side: batch.side, normalization: normalization)
    }

    /// The model input `[N, 3, side, side]` from uint8 NHWC pixels `[N, side, side, 3]`.
    public static func modelInput(pixels: [UInt8], count N: Int, side: Int,
                                  normalization: PixelNormalization = .tensorFlow) -> Tensor {
        precondition(pixels.count == N * side * side * 3, "pixels are not [\(N), \(side), \(side), 3]")
        let plane = side * side
        var x = [Float](repeating: 0, count: pixels.count)
        for n in 0..<N {
            for p in 0..<plane {
                for c in 0..<3 { x[(n * 3 + c) * plane + p] = normalization.apply(Float(pixels[(n * plane + p) * 3 + c]), channel: c) }
            }
        }
        return Tensor(shape: [N, 3, side, side], scalars: x)
    }
}

/// How an image network expects 8-bit RGB values `u8` to be scaled.
public enum PixelNormalization: Sendable, Equatable {
    /// `(u8 − 127)/128`: TensorFlow's EfficientNet-Lite preprocessing.
    case tensorFlow
    /// `(u8/255 − mean[c])/std[c]` with torchvision's ImageNet mean
    /// (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).
    case imageNet

    static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    static let imageNetStandardDeviation: [Float] = [0.229, 0.224, 0.225]

    /// The model's value for byte value `u8` (0…255 as a Float) of channel `c` (R, G, B).
    @inline(__always)
    public func apply(_ u8: Float, channel c: Int) -> Float {
        switch self {
        case .tensorFlow: return (u8 - 127) / 128
        case .imageNet: return (u8 / 255 - PixelNormalization.imageNetMean[c]) / PixelNormalization.imageNetStandardDeviation[c]
        }
    }
}
