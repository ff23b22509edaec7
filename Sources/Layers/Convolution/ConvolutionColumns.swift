import CKernels
import TensorCore

/// Where a `kH × kW` window with stride `s` visits an `H × W` image padded by
/// `top`/`left` (zero outside): at `Ho × Wo` positions. The im2col matrix of
/// one channel has a row per tap `(u, v)` and a column per position `(i, j)`:
/// `columns[u·kW + v, i·Wo + j] = x[i·s − top + u, j·s − left + v]`.
///
/// Conv2d reads its input through im2col (batched passes and backward; the
/// one-image forward alike) and writes
/// its input gradient with col2im (the adjoint); ConvTranspose2d does the
/// reverse with the roles of image and grid swapped (col2im forward, im2col
/// of dy backward).
struct ConvolutionGeometry {
    var kernelHeight: Int
    var kernelWidth: Int
    var stride: Int
    var top: Int
    var left: Int
    /// The image.
    var height: Int
    var width: Int
    /// The window positions.
    var outputHeight: Int
    var outputWidth: Int

    var imagePlane: Int { height * width }
    var outputPlane: Int { outputHeight * outputWidth }
    var taps: Int { kernelHeight * kernelWidth }

    /// im2col of `images` images of `channels` channels (`[N, C, H, W]` at `x`)
    /// into `[C·kH·kW, images·Ho·Wo]` (row stride `images·Ho·Wo`), image n in
    /// columns `n·Ho·Wo ..< (n + 1)·Ho·Wo`.
    func im2col(_ x: UnsafePointer<Float>, images: Int, channels: Int, into columns: UnsafeMutablePointer<Float>) {
        let P = outputPlane, rowStride = images * P
        let ranges = tapRanges()
        Parallel.forEachChunk(count: images * channels, minimumChunk: max(1, 16384 / (taps * P))) { planes in
            for plane in planes {
                let n = plane / channels, c = plane % channels
                im2col(x + plane * imagePlane, into: columns + c * taps * rowStride + n * P, rowStride: rowStride,
                       ranges: ranges)
            }
        }
    }

    /// For each tap `(u, v)`: the window rows and columns that land inside the image.
    func tapRanges() -> [(rows: Range<Int>, cols: Range<Int>)] {
        var ranges: [(rows: Range<Int>, cols: Range<Int>)] = []
        ranges.reserveCapacity(taps)
        for u in 0..<kernelHeight {
            let rows = validOutputRange(outputs: outputHeight, inputs: height, stride: stride, offset: u - top)
            for v in 0..<kernelWidth {
                ranges.append((rows, validOutputRange(outputs: outputWidth, inputs: width, stride: stride, offset: v - left)))
            }
        }
        return ranges
    }

    /// The adjoint of `im2col`: every image is overwritten with the sum of
    /// the columns that read each of its pixels.
    func col2im(_ columns: UnsafePointer<Float>, images: Int, channels: Int, into x: UnsafeMutablePointer<Float>) {
        let P = outputPlane, rowStride = images * P
        Parallel.forEachChunk(count: images * channels, minimumChunk: max(1, 16384 / (taps * P))) { planes in
            for plane in planes {
                let n = plane / channels, c = plane % channels
                col2im(columns + c * taps * rowStride + n * P, rowStride: rowStride, into: x + plane * imagePlane)
            }
        }
    }

    /// One channel: `columns[(u·kW + v)·rowStride + i·Wo + j] = x[i·s − top + u, j·s − left + v]` (0 outside).
    func im2col(_ x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int,
                ranges: [(rows: Range<Int>, cols: Range<Int>)]? = nil) {
        // The vectorised kernel takes stride 1 and 2 on planes up to about 90×90; it declines the rest.
        if n2n_im2col_plane(x, height, width, kernelHeight, kernelWidth, stride, top, left, outputHeight, outputWidth,
                            columns, rowStride) != 0 {
            return
        }
        genericIm2col(x, into: columns, rowStride: rowStride, ranges: ranges)
    }

    /// `im2col` for any stride, one tap row at a time.
    func genericIm2col(_ x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int,
                       ranges: [(rows: Range<Int>, cols: Range<Int>)]? = nil) {
        let kW = kernelWidth, s = stride, W = width
        let ho = outputHeight, wo = outputWidth
        let ranges = ranges ?? tapRanges()
        for tap in 0..<taps {
            let (u, v) = (tap / kW, tap % kW)
            let (rows, cols) = ranges[tap]
            let offset = v - left
            let out = columns + tap * rowStride
            for i in 0..<ho {
                let dst = out + i * wo
                guard rows.contains(i), !cols.isEmpty else {
                    for j in 0..<wo { dst[j] = 0 }
                    continue
                }
                let src = x + (i * s - top + u) * W + offset
                for j in 0..<cols.lowerBound { dst[j] = 0 }
                if s == 1 {
                    for j in cols { dst[j] = src[j] }
                } else {
                    for j in cols { dst[j] = src[j * s] }
                }
                for j in cols.upperBound..<wo { dst[j] = 0 }
            }
        }
    }

    /// Whether the window is 4×4 with stride 2 and padding 1 over an image of
    /// exactly twice the positions' sides: the DCGAN's transposed convolutions
    /// and the gradient of an even-sided 4×4/2 convolution, which
    /// `n2n_col2im_k4s2` handles in one vectorised pass.
    var isFourByFourStrideTwo: Bool {
        kernelHeight == 4 && kernelWidth == 4 && stride == 2 && top == 1 && left == 1
            && height == 2 * outputHeight && width == 2 * outputWidth
    }

    /// One channel, the adjoint of `im2col`:
    /// `x[i·s − top + u, j·s − left + v] = Σ columns[(u·kW + v)·rowStride + i·Wo + j]` (x overwritten).
    func col2im(_ columns: UnsafePointer<Float>, rowStride: Int, into x: UnsafeMutablePointer<Float>) {
        if isFourByFourStrideTwo {
            n2n_col2im_k4s2(columns, rowStride, outputHeight, outputWidth, 1, 0, N2N_ACT_NONE, x)
            return
        }
        // The AVX builds take planes whose bordered rows fit a vector (the small late layers); it declines the rest.
        if n2n_col2im_plane(columns, rowStride, height, width, kernelHeight, kernelWidth, stride, top, left,
                            outputHeight, outputWidth, x) != 0 {
            return
        }
        genericCol2im(columns, rowStride: rowStride, into: x)
    }

    /// `col2im` for any window, one tap at a time.
    func genericCol2im(_ columns: UnsafePointer<Float>, rowStride: Int, into x: UnsafeMutablePointer<Float>) {
        let kH = kernelHeight, kW = kernelWidth, s = stride, H = height, W = width
        let ho = outputHeight, wo = outputWidth
        x.update(repeating: 0, count: H * W)
        for u in 0..<kH {
            let rows = validOutputRange(outputs: ho, inputs: H, stride: s, offset: u - top)
            for v in 0..<kW {
                let offset = v - left
                let cols = validOutputRange(outputs: wo, inputs: W, stride: s, offset: offset)
                if cols.isEmpty { continue }
                let tap = columns + (u * kW + v) * rowStride
                for i in rows {
                    let src = tap + i * wo
                    let dst = x + (i * s - top + u) * W + offset
                    if s == 1 {
                        Vector.axpy(1, src + cols.lowerBound, dst + cols.lowerBound, count: cols.count)
                    } else {
                        for j in cols { dst[j * s] += src[j] }
                    }
                }
            }
        }
    }
}

/// NCHW ↔ channel-major batches: `[N, C, P]` images `first ..< first + g`
/// as one `[C, g·P]` matrix, so that one GEMM covers g images.
enum ChannelMajorBatch {
    /// `matrix[c, n·P + p] = images[n, c, p]` for `n < count`.
    static func gather(_ images: UnsafePointer<Float>, count: Int, channels: Int, plane P: Int,
                       into matrix: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(count: count * channels, minimumChunk: max(1, 16384 / P)) { planes in
            for plane in planes {
                let n = plane / channels, c = plane % channels
                (matrix + c * count * P + n * P).update(from: images + plane * P, count: P)
            }
        }
    }

    /// `images[n, c, p] = matrix[c, n·P + p]`, then `finish(destination, n·C + c)`
    /// on each written plane while it is in cache.
    static func scatter(_ matrix: UnsafePointer<Float>, count: Int, channels: Int, plane P: Int,
                        into images: UnsafeMutablePointer<Float>,
                        finish: (UnsafeMutablePointer<Float>, Int) -> Void = { _, _ in }) {
        Parallel.forEachChunk(count: count * channels, minimumChunk: max(1, 16384 / P)) { planes in
            for plane in planes {
                let n = plane / channels, c = plane % channels
                let destination = images + plane * P
                destination.update(from: matrix + c * count * P + n * P, count: P)
                finish(destination, plane)
            }
        }
    }

    /// `out[c] (+)= Σ_{n, p} x[n, c, p]` (the bias gradient), per channel in a fixed order.
    static func channelSums(_ x: UnsafePointer<Float>, count: Int, channels: Int, plane P: Int,
                            into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        Parallel.forEachChunk(count: channels, minimumChunk: max(1, 16384 / (count * P))) { range in
            for c in range {
                var total: Float = 0
                for n in 0..<count { total += Vector.sum(x + (n * channels + c) * P, count: P) }
                out[c] = accumulate ? out[c] + total : total
            }
        }
    }
}
