import CKernels
import TensorCore

/// A 2-D transposed convolution on NCHW float32 images (PyTorch
/// `ConvTranspose2d`, groups 1, no dilation): every input
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
/// whole batch is one GEMM `y [N, Cout·kH·kW] = x [N, Cin] · W`. `backward`
/// (training) sits below `forward` and uses the same workspace.
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

    /// Floats of workspace `forward` and `backward` need to process `images`
    /// images of `H × W` in one GEMM: their inputs regrouped `[Cin, images·H·W]`
    /// (backward: then their dx) and their columns `[Cout·kH·kW, images·H·W]`;
    /// 0 for a direct layer. Any workspace of at least
    /// `workspaceCount(height:width:)` (one image) works; larger ones let both
    /// passes batch images into wider, faster GEMMs.
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
        let available = workspace?.count ?? 0
        precondition(available >= needed, "ConvTranspose2d workspace holds \(available) floats, needs \(needed)")
        let geometry = geometry(height: height, width: width)
        let group = imagesPerGEMM(height: height, width: width, batch: batch, available: available)
        let columns = workspace!.pointer
        let regrouped = columns + group * KO * HW
        var first = 0
        while first < batch {
            let g = min(group, batch - first)
            // x of images first..<first+g as [Cin, g·HW] (one image: already in that layout).
            let b: UnsafePointer<Float>
            if g == 1 {
                b = x + first * inputChannels * HW
            } else {
                ChannelMajorBatch.gather(x + first * inputChannels * HW, count: g, channels: inputChannels, plane: HW,
                                  into: regrouped)
                b = UnsafePointer(regrouped)
            }
            // columns [Cout·kH·kW, g·HW] = Wᵀ · x, W viewed as [Cin, Cout·kH·kW]
            gemm(.transposed, .none, m: KO, n: g * HW, k: inputChannels, a: weight, lda: KO,
                 b: b, ldb: g * HW, c: columns, ldc: g * HW)
            // col2im with image and grid swapped: the output is the "image", the input grid the positions.
            // A 4×4/2 window with no residual: col2im and the epilogue in one pass.
            let fused = geometry.isFourByFourStrideTwo && epilogue.residual == nil
            Parallel.forEachChunk(count: g * outputChannels, minimumChunk: max(1, 16384 / (P * 4))) { range in
                for plane in range {
                    let n = plane / outputChannels, o = plane % outputChannels
                    let offset = ((first + n) * outputChannels + o) * P
                    let source = columns + o * geometry.taps * g * HW + n * HW
                    if fused {
                        let (s, t) = epilogue.affine(channel: o, bias: bias)
                        n2n_col2im_k4s2(source, g * HW, height, width, s, t, epilogue.activation.kernelCode, y + offset)
                        continue
                    }
                    geometry.col2im(source, rowStride: g * HW, into: y + offset)
                    epilogue.apply(y + offset, count: P, channel: o, bias: bias,
                                   residual: epilogue.residual.map { $0 + offset })
                }
            }
            first += g
        }
    }

    /// Images per GEMM that a workspace of `available` floats allows (at most `batch`).
    func imagesPerGEMM(height: Int, width: Int, batch: Int, available: Int) -> Int {
        max(1, min(batch, available / workspaceCount(height: height, width: width)))
    }

    /// The transposed convolution is the adjoint of a convolution of the
    /// output: a kH×kW window with stride s over the `Ho × Wo` output padded
    /// by p visits it at the `H × W` input positions.
    func geometry(height: Int, width: Int) -> ConvolutionGeometry {
        let (ho, wo) = outputSize(height: height, width: width)
        return ConvolutionGeometry(kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride,
                                   top: padding, left: padding, height: ho, width: wo,
                                   outputHeight: height, outputWidth: width)
    }

    /// Gradients of `y = convTranspose(x, W) + b` given `dy` `[N, Cout, Ho, Wo]`
    /// (before any epilogue). With `cols_n = im2col(dy_n)` `[Cout·kH·kW, H·W]`
    /// in the geometry above (a strided convolution's view of dy):
    /// `dW (+)= Σ_n x_n·cols_nᵀ` `[Cin, Cout·kH·kW]`, `db (+)= Σ_{n, p} dy[n, ·, p]`,
    /// `dx_n = W·cols_n` `[Cin, H·W]`. dW and db are overwritten, or added to
    /// when `accumulateParameters`; `dx`, when given, is overwritten and must
    /// alias neither `x` nor `dy`. The workspace is the forward one
    /// (`workspaceCount`), and batches images per GEMM the same way.
    public func backward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                         weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                         accumulateParameters: Bool = false,
                         dx: UnsafeMutablePointer<Float>?, workspace: FloatBuffer?) {
        let (ho, wo) = outputSize(height: height, width: width)
        let HW = height * width, P = ho * wo
        let Cin = inputChannels, KO = outputChannels * kernelHeight * kernelWidth
        if let biasGradient {
            ChannelMajorBatch.channelSums(dy, count: batch, channels: outputChannels, plane: P, into: biasGradient,
                                   accumulate: accumulateParameters)
        }
        let beta: Float = accumulateParameters ? 1 : 0
        if isDirect(height: height, width: width) || batch == 0 {
            // dW [Cin, KO] (+)= xᵀ [Cin, N] · dy [N, KO];  dx [N, Cin] = dy · Wᵀ
            gemm(.transposed, .none, m: Cin, n: KO, k: batch, a: x, lda: Cin, b: dy, ldb: KO,
                 beta: beta, c: weightGradient, ldc: KO)
            if let dx {
                gemm(.none, .transposed, m: batch, n: Cin, k: KO, a: dy, lda: KO, b: weight, ldb: KO, c: dx, ldc: Cin)
            }
            return
        }
        let needed = workspaceCount(height: height, width: width)
        let available = workspace?.count ?? 0
        precondition(available >= needed, "ConvTranspose2d backward workspace holds \(available) floats, needs \(needed)")
        let geometry = geometry(height: height, width: width)
        let group = imagesPerGEMM(height: height, width: width, batch: batch, available: available)
        let columns = workspace!.pointer
        let regrouped = columns + group * KO * HW
        var first = 0
        while first < batch {
            let g = min(group, batch - first)
            let ld = g * HW
            let xFirst = x + first * Cin * HW
            geometry.im2col(dy + first * outputChannels * P, images: g, channels: outputChannels, into: columns)
            let xMatrix: UnsafePointer<Float>
            if g == 1 {
                xMatrix = xFirst
            } else {
                ChannelMajorBatch.gather(xFirst, count: g, channels: Cin, plane: HW, into: regrouped)
                xMatrix = UnsafePointer(regrouped)
            }
            // dW [Cin, KO] (+)= x [Cin, g·HW] · columnsᵀ [g·HW, KO]
            gemm(.none, .transposed, m: Cin, n: KO, k: ld, a: xMatrix, lda: ld, b: columns, ldb: ld,
                 beta: first == 0 ? beta : 1, c: weightGradient, ldc: KO)
            if let dx {
                // dx [Cin, g·HW] = W [Cin, KO] · columns [KO, g·HW]
                let dxFirst = dx + first * Cin * HW
                gemm(.none, .none, m: Cin, n: ld, k: KO, a: weight, lda: KO, b: columns, ldb: ld,
                     c: g == 1 ? dxFirst : regrouped, ldc: ld)
                if g > 1 { ChannelMajorBatch.scatter(regrouped, count: g, channels: Cin, plane: HW, into: dxFirst) }
            }
            first += g
        }
    }
}
