import TensorCore

/// A 2-D transposed convolution on NCHW float32 images (PyTorch
/// `ConvTranspose2d`, groups 1, no dilation), inference only: every input
/// pixel scatters its kernel-weighted copy into the output,
/// `y[n, o, i·s − p + u, j·s − p + v] += Σ_c x[n, c, i, j] · W[c, o, u, v]`, plus b[o].
///
/// Shapes: x `[N, Cin, H, W]`, W `[Cin, Cout, kH, kW]` (PyTorch's layout),
/// b `[Cout]`, y `[N, Cout, Ho, Wo]` with `Ho = (H − 1)·s − 2p + kH + outputPadding`
/// (likewise Wo). DCGAN: k4 s1 p0 takes 1×1 → 4×4, k4 s2 p1 doubles the size.
///
/// Computed as one GEMM per image, `columns [Cout·kH·kW, H·W] = Wᵀ · x`,
/// then col2im into y per output channel, followed by the epilogue on that
/// channel while it is in cache. A 1×1 input with p = 0 needs no col2im: the
/// whole batch is one GEMM `y [N, Cout·kH·kW] = x [N, Cin] · W`.
public struct ConvTranspose2d: Sendable, Equatable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    public let outputPadding: Int

    public init(inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && stride > 0)
        precondition(padding >= 0 && outputPadding >= 0 && outputPadding < stride,
                     "outputPadding must be smaller than the stride")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    /// A square `kernelSize × kernelSize` transposed convolution.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0) {
        self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelHeight: kernelSize,
                  kernelWidth: kernelSize, stride: stride, padding: padding, outputPadding: outputPadding)
    }

    /// `[Cin, Cout, kH, kW]`.
    public var weightShape: [Int] { [inputChannels, outputChannels, kernelHeight, kernelWidth] }

    /// `(Ho, Wo)` for an `H × W` input.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let h = (height - 1) * stride - 2 * padding + kernelHeight + outputPadding
        let w = (width - 1) * stride - 2 * padding + kernelWidth + outputPadding
        precondition(h > 0 && w > 0, "padding \(padding) leaves no output for a \(height)×\(width) input")
        return (h, w)
    }

    /// Whether a 1×1 input maps straight onto the kH×kW output (no col2im).
    func isDirect(height: Int, width: Int) -> Bool {
        height == 1 && width == 1 && padding == 0 && outputPadding == 0
    }

    /// Floats of workspace `forward` needs to process `images` images of
    /// `H × W` in one GEMM: their inputs regrouped `[Cin, images·H·W]` and their
    /// columns `[Cout·kH·kW, images·H·W]`; 0 for a direct layer. Any workspace
    /// of at least `workspaceCount(height:width:)` (one image) works; larger
    /// ones let `forward` batch images into wider, faster GEMMs.
    public func workspaceCount(height: Int, width: Int, images: Int = 1) -> Int {
        isDirect(height: height, width: width)
            ? 0 : images * (outputChannels * kernelHeight * kernelWidth + inputChannels) * height * width
    }

    /// A workspace for `images` images of `H × W` at a time.
    public func makeWorkspace(height: Int, width: Int, images: Int = 1) -> FloatBuffer {
        FloatBuffer(count: workspaceCount(height: height, width: width, images: images))
    }

    /// `y = epilogue(convTranspose(x, W) + b)`; `y` must alias neither `x` nor
    /// `epilogue.residual`. `workspace` may be nil when `workspaceCount` is 0.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        epilogue: ConvolutionEpilogue = .identity, workspace: FloatBuffer?,
                        into y: UnsafeMutablePointer<Float>) {
        let (ho, wo) = outputSize(height: height, width: width)
        let HW = height * width, P = ho * wo
        let KO = outputChannels * kernelHeight * kernelWidth
        if isDirect(height: height, width: width) {
            // y [N, Cout·kH·kW] = x [N, Cin] · W [Cin, Cout·kH·kW]
            gemm(.none, .none, m: batch, n: KO, k: inputChannels, a: x, lda: inputChannels,
                 b: weight, ldb: KO, c: y, ldc: KO)
            Parallel.forEachChunk(count: batch * outputChannels, minimumChunk: max(1, 16384 / P)) { planes in
                for plane in planes {
                    epilogue.apply(y + plane * P, count: P, channel: plane % outputChannels, bias: bias,
                                   residual: epilogue.residual.map { $0 + plane * P })
                }
            }
            return
        }
        let needed = workspaceCount(height: height, width: width)
        precondition((workspace?.count ?? 0) >= needed, "ConvTranspose2d workspace holds \(workspace?.count ?? 0) floats, needs \(needed)")
        // Images per GEMM: as many as the workspace holds.
        let group = max(1, min(batch, workspace!.count / workspaceCount(height: height, width: width)))
        let columns = workspace!.pointer
        let regrouped = columns + group * KO * HW
        var first = 0
        while first < batch {
            let g = min(group, batch - first)
            let width_ = g * HW
            // x of images first..<first+g as [Cin, g·HW] (one image: already in that layout).
            let b: UnsafePointer<Float>
            if g == 1 {
                b = x + first * inputChannels * HW
            } else {
                for n in 0..<g {
                    for c in 0..<inputChannels {
                        (regrouped + c * width_ + n * HW).update(from: x + ((first + n) * inputChannels + c) * HW, count: HW)
                    }
                }
                b = UnsafePointer(regrouped)
            }
            // columns [Cout·kH·kW, g·HW] = Wᵀ · x, W viewed as [Cin, Cout·kH·kW]
            gemm(.transposed, .none, m: KO, n: width_, k: inputChannels, a: weight, lda: KO,
                 b: b, ldb: width_, c: columns, ldc: width_)
            Parallel.forEachChunk(count: g * outputChannels, minimumChunk: max(1, 16384 / (P * 4))) { range in
                for plane in range {
                    let n = plane / outputChannels, o = plane % outputChannels
                    let yPlane = y + ((first + n) * outputChannels + o) * P
                    col2im(columns + n * HW, rowStride: width_, channel: o, height: height, width: width,
                           outputHeight: ho, outputWidth: wo, into: yPlane)
                    epilogue.apply(yPlane, count: P, channel: o, bias: bias,
                                   residual: epilogue.residual.map { $0 + ((first + n) * outputChannels + o) * P })
                }
            }
            first += g
        }
    }

    /// Output channel `o`: `y[i·s − p + u, j·s − p + v] += columns[(o·kH + u)·kW + v, i·W + j]`,
    /// where consecutive rows of `columns` are `rowStride` apart.
    func col2im(_ columns: UnsafePointer<Float>, rowStride: Int, channel o: Int, height H: Int, width W: Int,
                outputHeight ho: Int, outputWidth wo: Int, into y: UnsafeMutablePointer<Float>) {
        let kH = kernelHeight, kW = kernelWidth, s = stride
        y.update(repeating: 0, count: ho * wo)
        for u in 0..<kH {
            // Input rows i whose output row i·s − p + u is inside the image.
            let rows = validOutputRange(outputs: H, inputs: ho, stride: s, offset: u - padding)
            for v in 0..<kW {
                let offset = v - padding
                let cols = validOutputRange(outputs: W, inputs: wo, stride: s, offset: offset)
                if cols.isEmpty { continue }
                let tap = columns + ((o * kH + u) * kW + v) * rowStride
                for i in rows {
                    let src = tap + i * W
                    let dst = y + (i * s - padding + u) * wo + offset
                    if s == 1 {
                        Lanes.axpy(1, src + cols.lowerBound, dst + cols.lowerBound, cols.count)
                    } else {
                        for j in cols { dst[j * s] += src[j] }
                    }
                }
            }
        }
    }
}
