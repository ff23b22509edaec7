import TensorCore

/// Max pooling over square windows (PyTorch `MaxPool2d(k, stride, padding)`,
/// no dilation, `ceil_mode=False`), on channels-last images, inference only:
///
///     y[n, i, j, c] = max_{u, v < k} x[n, i·s − p + u, j·s − p + v, c]
///
/// over the taps inside the image (padding never wins, as PyTorch pads with
/// −∞). Shapes: x `[N, H, W, C]`, y `[N, Ho, Wo, C]` with
/// `Ho = ⌊(H + 2p − k)/s⌋ + 1` (likewise Wo); PyTorch requires p ≤ k/2, so
/// every window holds at least one pixel.
public struct MaxPool2d: Sendable, Equatable {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(kernelSize: Int, stride: Int, padding: Int = 0) {
        precondition(kernelSize > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernelSize,
                     "MaxPool2d needs k > 0, s > 0 and 0 ≤ p ≤ k/2")
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    /// `(Ho, Wo)` for an `H × W` input.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let h = (height + 2 * padding - kernelSize) / stride + 1
        let w = (width + 2 * padding - kernelSize) / stride + 1
        precondition(h > 0 && w > 0, "input \(height)×\(width) too small for a \(kernelSize)×\(kernelSize) max pool")
        return (h, w)
    }

    /// `y = maxpool(x)` on an NHWC batch; `y` must not alias `x`.
    public func forwardChannelsLast(_ x: UnsafePointer<Float>, batch: Int, height H: Int, width W: Int, channels C: Int,
                                    into y: UnsafeMutablePointer<Float>) {
        let (ho, wo) = outputSize(height: H, width: W)
        Parallel.forEachChunk(count: batch * ho, minimumChunk: max(1, 16384 / max(1, wo * C))) { rows in
            for outputRow in rows {
                let n = outputRow / ho, i = outputRow % ho
                let rowStart = max(0, i * stride - padding), rowEnd = min(H, i * stride - padding + kernelSize)
                for j in 0..<wo {
                    let columnStart = max(0, j * stride - padding), columnEnd = min(W, j * stride - padding + kernelSize)
                    let out = y + (outputRow * wo + j) * C
                    out.update(from: x + ((n * H + rowStart) * W + columnStart) * C, count: C)
                    for r in rowStart..<rowEnd {
                        for q in columnStart..<columnEnd {
                            let pixel = x + ((n * H + r) * W + q) * C
                            for c in 0..<C where pixel[c] > out[c] || pixel[c].isNaN { out[c] = pixel[c] }
                        }
                    }
                }
            }
        }
    }
}
