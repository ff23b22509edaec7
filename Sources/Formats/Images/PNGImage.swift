import CPNG
import Foundation
import TensorCore

/// 8-bit RGB images in PNG files, through libpng's simplified API.
///
/// Pixels are row-major `[height, width, 3]` bytes. Reading accepts gray
/// (replicated to RGB), gray + alpha, RGB and RGBA (alpha is composited on
/// black, or dropped with `alpha: .drop`; 16-bit is reduced to 8); writing
/// always writes RGB, atomically.
public struct PNGImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `[height, width, 3]` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "an RGB image of \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// What reading does with an alpha channel.
    public enum AlphaHandling: Sendable {
        /// Colour × alpha over black (libpng's default for RGB output).
        case compositeOnBlack
        /// Keep the colour as stored and ignore alpha.
        case drop
    }

    /// Reads a PNG file, compositing any alpha on black.
    public static func read(_ url: URL) throws -> PNGImage {
        try read(url, alpha: .compositeOnBlack)
    }

    /// Reads a PNG file; an image of more than `limits.imagePixels` pixels
    /// is refused from its header, before anything is decoded.
    public static func read(_ url: URL, alpha: AlphaHandling,
                            limits: FormatLimits = .fromEnvironment()) throws -> PNGImage {
        let path = displayPath(url)
        guard FileManager.default.fileExists(atPath: url.path) else { throw FormatError.missingFile(path: path) }
        let data = try Data(contentsOf: url)
        return try data.withUnsafeBytes { try decode($0, path: path, alpha: alpha, limits: limits) }
    }

    /// Decodes PNG bytes held in memory (an upload); `name` names them in errors.
    /// An image of more than `limits.imagePixels` pixels is refused from its
    /// header, before anything is decoded.
    public static func decode(_ data: Data, name: String, alpha: AlphaHandling = .compositeOnBlack,
                              limits: FormatLimits = .fromEnvironment()) throws -> PNGImage {
        try data.withUnsafeBytes { try decode($0, path: name, alpha: alpha, limits: limits) }
    }

    /// Decodes the PNG file `bytes`; `path` names it in errors.
    static func decode(_ bytes: UnsafeRawBufferPointer, path: String, alpha: AlphaHandling,
                       limits: FormatLimits) throws -> PNGImage {
        guard !bytes.isEmpty else { throw FormatError.emptyFile(path: path) }
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw FormatError.badMagic(path: path, format: "PNG")
        }
        // The first chunk must be IHDR: length 13, "IHDR", width, height (big-endian).
        guard bytes.count >= 24, bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else {
            throw FormatError.malformedHeader(path: path, reason: "the PNG does not start with an IHDR chunk")
        }
        let headerWidth = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        let headerHeight = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 20, as: UInt32.self)))
        try limits.check(.imagePixels, CheckedSize.product(headerWidth, headerHeight) ?? Int.max, path: path,
                         what: "PNG of \(headerWidth)×\(headerHeight)")
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
            throw FormatError.unreadable(path: path, reason: libpngMessage(image))
        }
        defer { png_image_free(&image) }
        let width = Int(image.width), height = Int(image.height)
        try limits.check(.imagePixels, width * height, path: path, what: "PNG of \(width)×\(height)")
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let channels = alpha == .drop && hasAlpha ? 4 : 3
        image.format = UInt32(PNG_FORMAT_RGB) | (channels == 4 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        guard let rowBytes = Int32(exactly: width * channels) else {
            throw FormatError.malformedHeader(path: path, reason: "PNG rows of \(width) pixels are too long")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, rowBytes, nil)
        }
        guard finished != 0 else { throw FormatError.unreadable(path: path, reason: libpngMessage(image)) }
        if channels == 4 {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for p in 0..<(width * height) { for c in 0..<3 { rgb[3 * p + c] = pixels[4 * p + c] } }
            pixels = rgb
        }
        return PNGImage(width: width, height: height, pixels: pixels)
    }

    /// Writes the image as an 8-bit RGB PNG, replacing `url` atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(name: displayPath(url)), to: url)
    }

    /// The image as the bytes of an 8-bit RGB PNG file; `name` names it in errors.
    public func encoded(name: String = "PNG") throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        var size = 0
        let sized = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, Int32(width * 3), nil) }
        guard sized != 0, size > 0 else {
            throw FormatError.writeFailed(path: name, reason: PNGImage.libpngMessage(image))
        }
        var encoded = Data(count: size)
        let written = encoded.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, Int32(width * 3), nil) }
        }
        png_image_free(&image)
        guard written != 0 else {
            throw FormatError.writeFailed(path: name, reason: PNGImage.libpngMessage(image))
        }
        return encoded.prefix(size)
    }

    /// The image enlarged `factor` times by nearest neighbour (each pixel
    /// becomes a factor × factor square), so that small images stay sharp.
    public func upscaled(by factor: Int) -> PNGImage {
        precondition(factor >= 1, "an upscaling factor is at least 1")
        guard factor > 1 else { return self }
        let W = width * factor, H = height * factor
        var out = [UInt8](repeating: 0, count: W * H * 3)
        for y in 0..<H {
            for x in 0..<W {
                let source = ((y / factor) * width + x / factor) * 3
                let target = (y * W + x) * 3
                out[target] = pixels[source]; out[target + 1] = pixels[source + 1]; out[target + 2] = pixels[source + 2]
            }
        }
        return PNGImage(width: W, height: H, pixels: out)
    }

    static func libpngMessage(_ image: png_image) -> String {
        var message = image.message
        return withUnsafeBytes(of: &message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// A grid of `[N, 3, H, W]` (or gray `[N, 1, H, W]`) images in [-1, 1]
    /// (values outside are clipped), `columns` per row, separated and framed
    /// by `border` pixels of `background`.
    public static func grid(_ images: Tensor, columns: Int = 8, border: Int = 2,
                            background: UInt8 = 255) -> PNGImage {
        precondition(images.rank == 4 && (images.shape[1] == 3 || images.shape[1] == 1) && images.shape[0] > 0,
                     "a grid needs images [N, 3, H, W] or [N, 1, H, W], got \(images.shape)")
        let N = images.shape[0], C = images.shape[1], H = images.shape[2], W = images.shape[3]
        let cols = max(1, min(columns, N)), rows = (N + cols - 1) / cols
        let width = cols * W + (cols + 1) * border, height = rows * H + (rows + 1) * border
        var pixels = [UInt8](repeating: background, count: width * height * 3)
        images.withUnsafeBufferPointer { x in
            for n in 0..<N {
                let top = border + (n / cols) * (H + border), left = border + (n % cols) * (W + border)
                for c in 0..<3 {
                    for y in 0..<H {
                        for xPos in 0..<W {
                            let v = x[((n * C + min(c, C - 1)) * H + y) * W + xPos]
                            let byte = UInt8(max(0, min(255, ((v + 1) * 127.5).rounded())))
                            pixels[((top + y) * width + left + xPos) * 3 + c] = byte
                        }
                    }
                }
            }
        }
        return PNGImage(width: width, height: height, pixels: pixels)
    }
}
