import TensorCore

/// Global average pooling `y[n, c] = (1/(H·W)) · Σ_{i,j} x[n, c, i, j]`:
/// NCHW `[N, C, H, W]` → `[N, C]` (EfficientNet's head before `_fc`).
public enum GlobalAveragePool {
    public static func forward(_ x: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                               into y: UnsafeMutablePointer<Float>) {
        let P = height * width
        let inverse = 1 / Float(P)
        Parallel.forEachChunk(count: batch * channels, minimumChunk: max(1, 32768 / max(1, P))) { planes in
            for plane in planes { y[plane] = Vector.sum(x + plane * P, count: P) * inverse }
        }
    }
}
