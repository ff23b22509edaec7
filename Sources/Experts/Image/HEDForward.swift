import Foundation
import Layers
import TensorCore

/// HED's forward pass (see `HEDEdgeDetector`) on batches of equal-sized
/// images, channels-last throughout.
extension HEDEdgeDetector {
    /// Edge probabilities `[N, 1, H, W]` in [0, 1] of RGB images `[N, H, W, 3]` (bytes).
    public func edges(pixels: [UInt8], count N: Int, height H: Int, width W: Int) throws -> Tensor {
        try edgeMaps(pixels: pixels, count: N, height: H, width: W).probabilities
    }

    /// HED's edge maps of images `[N, C, H, W]` in [-1, 1] (C = 1 gray or 3 RGB),
    /// as images in [-1, 1]: `2p − 1` for probability p, so strong edges are +1 and
    /// flat regions near −1. Each image is seen as its 8-bit PNG would be,
    /// `u8 = clamp(round((x + 1)·127.5), 0, 255)`, gray replicated to R, G and B.
    public func edgeImages(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4, images.shape[1] == 1 || images.shape[1] == 3 else {
            throw ExpertError.badInput("HED edge images take [N, 1 or 3, H, W], got \(images.shape)")
        }
        let (N, C, H, W) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        var pixels = [UInt8](repeating: 0, count: N * H * W * 3)
        images.withUnsafeBufferPointer { x in
            for n in 0..<N {
                for p in 0..<(H * W) {
                    for c in 0..<3 {
                        let v = x[(n * C + min(c, C - 1)) * H * W + p]
                        pixels[(n * H * W + p) * 3 + c] = UInt8(max(0, min(255, ((v + 1) * 127.5).rounded())))
                    }
                }
            }
        }
        let probabilities = try edges(pixels: pixels, count: N, height: H, width: W)
        return Tensor(shape: probabilities.shape, scalars: probabilities.scalars.map { 2 * $0 - 1 })
    }

    /// The fused edge probabilities `[N, 1, H, W]` and the five side outputs'
    /// logits `[N, 5, H, W]` (after resizing, before the fusion) of RGB bytes `[N, H, W, 3]`.
    public func edgeMaps(pixels: [UInt8], count N: Int, height H: Int,
                         width W: Int) throws -> (probabilities: Tensor, sides: Tensor) {
        guard N >= 0, H > 0, W > 0, pixels.count == N * H * W * 3 else {
            throw ExpertError.badInput("HED takes RGB images [N, H, W, 3] with H, W ≥ 1; got \(pixels.count) bytes "
                + "for \(N)×\(H)×\(W)×3")
        }
        let plane = H * W
        var probabilities = [Float](repeating: 0, count: N * plane), sides = [Float](repeating: 0, count: N * 5 * plane)
        let perPass = max(1, pixelsPerPass / plane)
        lock.lock()
        defer { lock.unlock() }
        var start = 0
        while start < N {
            let count = min(perPass, N - start)
            let x = HEDEdgeDetector.modelInput(pixels[(start * plane * 3)..<((start + count) * plane * 3)])
            let side = sideOutputs(x, images: count, height: H, width: W)
            sides.replaceSubrange((start * 5 * plane)..<((start + count) * 5 * plane), with: side)
            for n in 0..<count {
                for p in 0..<plane {
                    var fused = fuseBias
                    for k in 0..<5 { fused += fuseWeight[k] * side[(n * 5 + k) * plane + p] }
                    probabilities[(start + n) * plane + p] = fused
                }
            }
            start += count
        }
        probabilities.withUnsafeMutableBufferPointer { Vector.sigmoid($0.baseAddress!, $0.baseAddress!, count: $0.count) }
        return (Tensor(shape: [N, 1, H, W], scalars: probabilities), Tensor(shape: [N, 5, H, W], scalars: sides))
    }

    /// The five side outputs `[N, 5, H, W]` (logits at the input's size) of model inputs `[N, H, W, 3]`.
    func sideOutputs(_ input: [Float], images N: Int, height: Int, width: Int) -> [Float] {
        var x = input, h = height, w = width
        let plane = height * width
        var sides = [Float](repeating: 0, count: N * 5 * plane)
        for (b, block) in convolutions.enumerated() {
            if b > 0 {
                (x, h, w) = HEDEdgeDetector.maxPool(x, images: N, height: h, width: w, channels: block[0].layer.inputChannels)
            }
            for convolution in block { x = apply(convolution, x, images: N, height: h, width: w) }
            let channels = block.last!.layer.outputChannels
            for n in 0..<N {
                // dsn_k: one 1×1 filter, side[p] = Σ_c x[p, c]·w[c] + b.
                var side = [Float](repeating: sideBiases[b], count: h * w)
                x.withUnsafeBufferPointer { xs in
                    sideWeights[b].withUnsafeBufferPointer { ws in
                        let image = xs.baseAddress! + n * h * w * channels
                        for p in 0..<(h * w) { side[p] += Vector.dot(image + p * channels, ws.baseAddress!, count: channels) }
                    }
                }
                let full = b == 0 ? side
                    : ImageInput.resizeBilinear(side, channels: 1, height: h, width: w, toHeight: height, toWidth: width)
                sides.replaceSubrange(((n * 5 + b) * plane)..<((n * 5 + b + 1) * plane), with: full)
            }
        }
        return sides
    }

    /// `relu(conv3×3(x) + b)` on channels-last images `[N, h, w, Cin]` → `[N, h, w, Cout]`.
    func apply(_ convolution: Convolution, _ x: [Float], images N: Int, height h: Int, width w: Int) -> [Float] {
        let layer = convolution.layer
        // im2col rows for up to 1024 output pixels per thread (at least one row): bounded at any image size.
        let needed = layer.inputChannels * 9 * min(N * h * w, Parallel.threadCount * max(w, 1024))
        if workspace.count < needed { workspace = FloatBuffer(count: needed) }
        var y = [Float](repeating: 0, count: N * h * w * layer.outputChannels)
        x.withUnsafeBufferPointer { xs in
            convolution.weight.withUnsafeBufferPointer { ws in
                convolution.bias.withUnsafeBufferPointer { bs in
                    y.withUnsafeMutableBufferPointer { ys in
                        layer.forwardChannelsLast(xs.baseAddress!, batch: N, height: h, width: w, weight: ws.baseAddress!,
                                                  bias: bs.baseAddress!, epilogue: ConvolutionEpilogue(activation: .relu),
                                                  workspace: workspace, into: ys.baseAddress!)
                    }
                }
            }
        }
        return y
    }

    /// TensorFlow's 2×2, stride-2 "same" max-pooling of `[N, h, w, C]` → `[N, ⌈h/2⌉, ⌈w/2⌉, C]`:
    /// `y[n, i, j, c] = max x[n, 2i + a, 2j + b, c]` over the a, b ∈ {0, 1} inside the image.
    static func maxPool(_ x: [Float], images N: Int, height h: Int, width w: Int, channels C: Int) -> ([Float], Int, Int) {
        let ho = (h + 1) / 2, wo = (w + 1) / 2
        var y = [Float](repeating: -.infinity, count: N * ho * wo * C)
        for n in 0..<N {
            for r in 0..<h {
                for q in 0..<w {
                    let source = ((n * h + r) * w + q) * C, target = ((n * ho + r / 2) * wo + q / 2) * C
                    for c in 0..<C { y[target + c] = max(y[target + c], x[source + c]) }
                }
            }
        }
        return (y, ho, wo)
    }
}
