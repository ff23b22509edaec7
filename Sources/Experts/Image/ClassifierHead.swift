import Foundation
import TensorCore

/// The linear classifier on pooled image features (`_fc`, `fc`):
/// `logits [N, classes] = features [N, D] · Wᵀ + b`, W `[classes, D]` as PyTorch stores it.
struct ClassifierHead {
    let weight: [Float]
    let bias: [Float]
    let inputs: Int
    let classes: Int

    init(weight: [Float], bias: [Float], inputs: Int, classes: Int) {
        precondition(weight.count == inputs * classes && bias.count == classes, "fc is not [\(classes), \(inputs)]")
        self.weight = weight
        self.bias = bias
        self.inputs = inputs
        self.classes = classes
    }

    func callAsFunction(_ features: Tensor) -> Tensor {
        precondition(features.rank == 2 && features.shape[1] == inputs, "features must be [N, \(inputs)], got \(features.shape)")
        let N = features.shape[0]
        var out = [Float](repeating: 0, count: N * classes)
        for n in 0..<N { out.replaceSubrange((n * classes)..<((n + 1) * classes), with: bias) }
        features.withUnsafeBufferPointer { f in
            gemm(.none, .transposed, m: N, n: classes, k: inputs, a: f.baseAddress!, lda: inputs, b: weight,
                 ldb: inputs, beta: 1, c: &out, ldc: classes)
        }
        return Tensor(shape: [N, classes], scalars: out)
    }
}

/// Global average pool of channels-last images: `features[n, c] = mean_p x[n, p, c]`,
/// x `[N, pixels, C]` → `[N, C]`.
func averagePoolChannelsLast(_ x: UnsafePointer<Float>, images N: Int, pixels: Int, channels C: Int,
                             into features: UnsafeMutablePointer<Float>) {
    for n in 0..<N {
        Vector.columnSums(x + n * pixels * C, rows: pixels, columns: C, ld: C, into: features + n * C, accumulate: false)
        Vector.scale(features + n * C, by: 1 / Float(pixels), count: C)
    }
}

/// NCHW → NHWC for `images` images of `channels × pixels`.
func channelsLast(_ nchw: UnsafePointer<Float>, images N: Int, channels C: Int, pixels: Int,
                  into nhwc: UnsafeMutablePointer<Float>) {
    for n in 0..<N {
        let source = nchw + n * C * pixels, target = nhwc + n * pixels * C
        for p in 0..<pixels {
            for c in 0..<C { target[p * C + c] = source[c * pixels + p] }
        }
    }
}
