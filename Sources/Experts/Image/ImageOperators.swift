import Foundation
import TensorCore

/// A rectangle of an image, in pixels: rows `top..<top+height`, columns `left..<left+width`.
public struct ImageBox: Equatable, Sendable {
    public var top: Int
    public var left: Int
    public var height: Int
    public var width: Int

    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top
        self.left = left
        self.height = height
        self.width = width
    }

    public var area: Int { height * width }
}

/// Which part of an image `ImageOperators.masked` hides.
public enum MaskRegion: Equatable, Sendable {
    /// Rows ⌊H/2⌋..<H.
    case lowerHalf
    /// Rows 0..<⌈H/2⌉.
    case upperHalf
    /// A box per image covering `coverage` of it (default 40–50 %), from a
    /// generator seeded with `seed` and the image's index.
    case randomBox(seed: UInt64, coverage: ClosedRange<Double> = 0.4...0.5)

    /// The box hidden in image `index` of size `height × width`.
    ///
    /// For `randomBox`, image i draws from `SeededGenerator(seed: seed ⊕ (i + 1)·φ64)`:
    /// an area fraction a uniform in `coverage`, an aspect ratio h/w = 2^u with
    /// u uniform in [−1, 1], h = round(√(a·H·W·ratio)) clamped to 1…H, then
    /// w = round(a·H·W / h) clamped to 1…W, and a uniform position inside the image.
    public func box(forImage index: Int, height H: Int, width W: Int) -> ImageBox {
        switch self {
        case .lowerHalf:
            return ImageBox(top: H / 2, left: 0, height: H - H / 2, width: W)
        case .upperHalf:
            return ImageBox(top: 0, left: 0, height: (H + 1) / 2, width: W)
        case .randomBox(let seed, let coverage):
            var g = SeededGenerator(seed: seed ^ (UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15))
            let fraction = coverage.lowerBound + Double(g.nextUniform()) * (coverage.upperBound - coverage.lowerBound)
            let ratio = Foundation.pow(2, 2 * Double(g.nextUniform()) - 1)
            let area = fraction * Double(H * W)
            let h = min(H, max(1, Int((area * ratio).squareRoot().rounded())))
            let w = min(W, max(1, Int((area / Double(h)).rounded())))
            let top = Int(g.next() % UInt64(H - h + 1)), left = Int(g.next() % UInt64(W - w + 1))
            return ImageBox(top: top, left: left, height: h, width: w)
        }
    }
}

/// Image → image operators that make query domains for the paper's
/// experiments from gray images `[N, 1, H, W]` in [-1, 1] (background −1):
/// edge maps, masked images, and EfficientNet's view of a small image.
public enum ImageOperators {
    /// Sobel edge maps of gray images `[N, 1, H, W]` in [-1, 1] → `[N, 1, H, W]`.
    ///
    /// On u = (x + 1)/2 ∈ [0, 1], zero-padded (padding is background, so a
    /// blank border gives no edge), per pixel
    ///
    ///     gx = (u[r−1,c+1] + 2u[r,c+1] + u[r+1,c+1]) − (u[r−1,c−1] + 2u[r,c−1] + u[r+1,c−1])
    ///     gy = (u[r+1,c−1] + 2u[r+1,c] + u[r+1,c+1]) − (u[r−1,c−1] + 2u[r−1,c] + u[r−1,c+1])
    ///     m  = √(gx² + gy²)
    ///     e  = 2·m / max_image(m) − 1
    ///
    /// so the strongest edge of each image is +1 (bright), flat regions are −1,
    /// and an image without any edge is −1 everywhere.
    public static func sobelEdges(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 1, "edges take gray images [N, 1, H, W], got \(images.shape)")
        let N = images.shape[0], H = images.shape[2], W = images.shape[3]
        var output = Tensor(zeros: images.shape)
        var magnitude = [Float](repeating: 0, count: H * W)
        images.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for n in 0..<N {
                    let image = n * H * W
                    @inline(__always) func u(_ r: Int, _ c: Int) -> Float {
                        r < 0 || r >= H || c < 0 || c >= W ? 0 : (x[image + r * W + c] + 1) / 2
                    }
                    var largest: Float = 0
                    for r in 0..<H {
                        for c in 0..<W {
                            let gx = (u(r - 1, c + 1) + 2 * u(r, c + 1) + u(r + 1, c + 1))
                                - (u(r - 1, c - 1) + 2 * u(r, c - 1) + u(r + 1, c - 1))
                            let gy = (u(r + 1, c - 1) + 2 * u(r + 1, c) + u(r + 1, c + 1))
                                - (u(r - 1, c - 1) + 2 * u(r - 1, c) + u(r - 1, c + 1))
                            let m = (gx * gx + gy * gy).squareRoot()
                            magnitude[r * W + c] = m
                            largest = max(largest, m)
                        }
                    }
                    let scale: Float = largest > 0 ? 2 / largest : 0
                    for p in 0..<(H * W) { y[image + p] = magnitude[p] * scale - 1 }
                }
            }
        }
        return output
    }

    /// The images with `region` set to −1 (background), `[N, C, H, W]` → same shape.
    public static func masked(_ images: Tensor, region: MaskRegion) -> Tensor {
        precondition(images.rank == 4, "masking takes images [N, C, H, W], got \(images.shape)")
        let N = images.shape[0], C = images.shape[1], H = images.shape[2], W = images.shape[3]
        var output = images
        output.withUnsafeMutableBufferPointer { y in
            for n in 0..<N {
                let box = region.box(forImage: n, height: H, width: W)
                for ch in 0..<C {
                    for r in box.top..<(box.top + box.height) {
                        let row = ((n * C + ch) * H + r) * W
                        for c in box.left..<(box.left + box.width) { y[row + c] = -1 }
                    }
                }
            }
        }
        return output
    }

    /// EfficientNet-Lite0's input `[N, 3, 224, 224]` for gray `[N, 1, h, w]` or
    /// RGB `[N, 3, h, w]` images in [-1, 1], exactly as if each image were saved
    /// as an 8-bit PNG (`PNGImage.grid` rounding) and read back with
    /// `ImageInput.load` + `ImageInput.modelInput`:
    ///
    ///     u8 = clamp(round((x + 1)·127.5), 0, 255)
    ///     v  = clamp(round(resizeBilinear(u8 → 224×224)), 0, 255)   (ImageInput.resizeBilinear, per channel)
    ///     y  = (v − 127)/128; gray is replicated to R, G and B
    ///
    /// (other networks: `normalization` scales v instead).
    public static func efficientNetInput(_ images: Tensor, side: Int = EfficientNetLite.imageSize,
                                         normalization: PixelNormalization = .tensorFlow) -> Tensor {
        precondition(images.rank == 4 && (images.shape[1] == 1 || images.shape[1] == 3),
                     "EfficientNet input takes gray or RGB images [N, 1 or 3, H, W], got \(images.shape)")
        precondition(images.isFinite, "EfficientNet input: the images contain NaN or infinite values")
        let N = images.shape[0], C = images.shape[1], h = images.shape[2], w = images.shape[3]
        let plane = side * side, size = C * h * w
        var output = Tensor(zeros: [N, 3, side, side])
        images.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for n in 0..<N {
                    let bytes = (0..<size).map { Float(byte((x[n * size + $0] + 1) * 127.5)) }
                    let resized = h == side && w == side
                        ? bytes
                        : ImageInput.resizeBilinear(bytes, channels: C, height: h, width: w, toHeight: side, toWidth: side)
                    for c in 0..<3 {
                        let source = min(c, C - 1) * plane
                        for p in 0..<plane { y[(n * 3 + c) * plane + p] = normalization.apply(Float(byte(resized[source + p])), channel: c) }
                    }
                }
            }
        }
        return output
    }

    /// Gray versions `[N, 1, H, W]` of RGB images `[N, 3, H, W]`: the mean of R, G and B.
    public static func gray(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 3, "gray takes RGB images [N, 3, H, W], got \(images.shape)")
        let N = images.shape[0], plane = images.shape[2] * images.shape[3]
        var output = Tensor(zeros: [N, 1, images.shape[2], images.shape[3]])
        for n in 0..<N {
            for p in 0..<plane {
                let o = n * 3 * plane + p
                output.scalars[n * plane + p] = (images.scalars[o] + images.scalars[o + plane] + images.scalars[o + 2 * plane]) / 3
            }
        }
        return output
    }

    @inline(__always)
    static func byte(_ v: Float) -> UInt8 {
        UInt8(max(0, min(255, v.rounded())))
    }
}
