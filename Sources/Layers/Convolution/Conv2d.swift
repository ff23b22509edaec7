import CKernels
import TensorCore

/// A 2-D convolution on NCHW float32 images (PyTorch `Conv2d`, no dilation):
/// `y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x[n, g·Cg + c, i·s − top + u, j·s − left + v]`
/// where `g = o / (Cout/groups)`, `Cg = Cin/groups`, and x is 0 outside the image.
///
/// Shapes: x `[N, Cin, H, W]`, W `[Cout, Cin/groups, kH, kW]` (PyTorch's
/// layout), b `[Cout]`, y `[N, Cout, Ho, Wo]` with
/// `Ho = (H + top + bottom − kH)/s + 1` (likewise Wo). The struct only holds
/// the geometry; weights are passed per call so they can live anywhere
/// (a parameter buffer, a mapped checkpoint).
///
/// Strategies: depthwise (`groups = Cin`, `Cout = m·Cin`) is a direct SIMD
/// loop; 1×1 stride-1 unpadded convolutions are one GEMM per image and
/// group, `y = W·x`; everything else is im2col into the workspace followed by
/// one GEMM per image and group. With groups = 1 and a workspace for several
/// images, those share one wider GEMM (small images: the VAE's 14×14 → 4×4).
/// The epilogue (`ConvolutionEpilogue`) runs on each output channel while it
/// is still in cache. Training (groups = 1) is in `Conv2dBackward.swift`.
public struct Conv2d: Sendable, Equatable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Padding2d
    public let groups: Int

    public init(inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int = 1, padding: Padding2d = .zero, groups: Int = 1) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && stride > 0)
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "groups \(groups) must divide Cin \(inputChannels) and Cout \(outputChannels)")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    /// A square `kernelSize × kernelSize` convolution.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Padding2d = .zero, groups: Int = 1) {
        self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelHeight: kernelSize,
                  kernelWidth: kernelSize, stride: stride, padding: padding, groups: groups)
    }

    /// `[Cout, Cin/groups, kH, kW]`.
    public var weightShape: [Int] { [outputChannels, inputChannels / groups, kernelHeight, kernelWidth] }

    /// Whether the direct depthwise loop is used (`groups = Cin > 1`).
    public var isDepthwise: Bool { groups > 1 && groups == inputChannels }

    /// Whether the convolution is a plain GEMM on the input (1×1, stride 1, unpadded).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == .zero
    }

    /// `(Ho, Wo)` for an `H × W` input.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let h = (height + padding.top + padding.bottom - kernelHeight) / stride + 1
        let w = (width + padding.left + padding.right - kernelWidth) / stride + 1
        precondition(h > 0 && w > 0, "input \(height)×\(width) too small for kernel \(kernelHeight)×\(kernelWidth) with padding \(padding)")
        return (h, w)
    }

    /// Floats of workspace `forward` and `backward` need to process `images`
    /// images of `H × W` per GEMM (any batch). One image: its im2col matrix
    /// `[Cin/groups·kH·kW, Ho·Wo]` (0 when pointwise or depthwise). Several
    /// (groups = 1 only): their columns `[K, images·Ho·Wo]` plus a staging
    /// matrix `[Cout, images·Ho·Wo]` for the output (forward) or dy
    /// (backward). Any workspace of at least the one-image count works;
    /// larger ones let the passes batch images into wider, faster GEMMs
    /// (at 14×14 → 7×7 with 32 → 64 channels, 32–128 images per GEMM run
    /// forward + backward about twice as fast as one).
    public func workspaceCount(height: Int, width: Int, images: Int = 1) -> Int {
        if isDepthwise { return 0 }
        let (ho, wo) = outputSize(height: height, width: width)
        let K = inputChannels / groups * kernelHeight * kernelWidth
        if images <= 1 || groups > 1 { return isPointwise ? 0 : K * ho * wo }
        return images * (K + outputChannels) * ho * wo
    }

    /// A workspace for `images` images of `H × W` per GEMM; one may be shared
    /// by layers run in turn if sized for the largest `workspaceCount`.
    public func makeWorkspace(height: Int, width: Int, images: Int = 1) -> FloatBuffer {
        FloatBuffer(count: workspaceCount(height: height, width: width, images: images))
    }

    /// Images per GEMM that a workspace of `available` floats allows (at most `batch`).
    func imagesPerGEMM(height: Int, width: Int, batch: Int, available: Int) -> Int {
        if groups > 1 || batch < 2 { return 1 }
        let perImage = workspaceCount(height: height, width: width, images: 2) / 2
        return max(1, min(batch, available / perImage))
    }

    /// The im2col geometry on an `H × W` input.
    func geometry(height: Int, width: Int) -> ConvolutionGeometry {
        let (ho, wo) = outputSize(height: height, width: width)
        return ConvolutionGeometry(kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride,
                                   top: padding.top, left: padding.left, height: height, width: width,
                                   outputHeight: ho, outputWidth: wo)
    }

    /// `y = epilogue(conv(x, W) + b)` for a batch of `H × W` images; `y` must
    /// alias neither `x` nor `epilogue.residual`. `workspace` may be nil when
    /// `workspaceCount` is 0. With groups = 1 and a workspace for g > 1
    /// images, g images share one GEMM `[Cout, K]·[K, g·Ho·Wo]` whose result
    /// is scattered to NCHW while the epilogue runs.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        epilogue: ConvolutionEpilogue = .identity, workspace: FloatBuffer?,
                        into y: UnsafeMutablePointer<Float>) {
        let (ho, wo) = outputSize(height: height, width: width)
        if isDepthwise {
            depthwise(x, batch: batch, height: height, width: width, outputHeight: ho, outputWidth: wo,
                      weight: weight, bias: bias, epilogue: epilogue, into: y)
            return
        }
        let needed = workspaceCount(height: height, width: width)
        let available = workspace?.count ?? 0
        precondition(available >= needed, "Conv2d workspace holds \(available) floats, needs \(needed)")
        let Cg = inputChannels / groups, Og = outputChannels / groups
        let K = Cg * kernelHeight * kernelWidth
        let P = ho * wo, HW = height * width
        let geometry = geometry(height: height, width: width)
        let group = imagesPerGEMM(height: height, width: width, batch: batch, available: available)
        if group > 1 {
            let columns = workspace!.pointer, staged = columns + group * K * P
            var first = 0
            while first < batch {
                let g = min(group, batch - first)
                geometry.im2col(x + first * inputChannels * HW, images: g, channels: inputChannels, into: columns)
                // staged [Cout, g·P] = W [Cout, K] · columns [K, g·P]
                gemm(.none, .none, m: outputChannels, n: g * P, k: K, a: weight, lda: K,
                     b: columns, ldb: g * P, c: staged, ldc: g * P)
                let offset = first * outputChannels * P
                let residual = epilogue.residual.map { $0 + offset }
                ChannelMajorBatch.scatter(staged, count: g, channels: outputChannels, plane: P, into: y + offset) { yPlane, plane in
                    epilogue.apply(yPlane, count: P, channel: plane % outputChannels, bias: bias,
                                   residual: residual.map { $0 + plane * P })
                }
                first += g
            }
            return
        }
        for n in 0..<batch {
            let xn = x + n * inputChannels * HW
            let yn = y + n * outputChannels * P
            for g in 0..<groups {
                let xg = xn + g * Cg * HW
                var columns = UnsafePointer(xg)
                if !isPointwise {
                    geometry.im2col(xg, images: 1, channels: Cg, into: workspace!.pointer)
                    columns = UnsafePointer(workspace!.pointer)
                }
                // y_g [Og, P] = W_g [Og, K] · columns [K, P]
                gemm(.none, .none, m: Og, n: P, k: K, a: weight + g * Og * K, lda: K,
                     b: columns, ldb: P, c: yn + g * Og * P, ldc: P)
            }
            let residual = epilogue.residual.map { $0 + n * outputChannels * P }
            Parallel.forEachChunk(count: outputChannels, minimumChunk: max(1, 16384 / P)) { channels in
                for o in channels {
                    epilogue.apply(yn + o * P, count: P, channel: o, bias: bias, residual: residual.map { $0 + o * P })
                }
            }
        }
    }

    /// Depthwise: output channel o reads input channel o/m (m = Cout/Cin) with
    /// its own kH×kW filter. Each input plane is first copied into a small
    /// zero-bordered scratch plane (per thread, in L2), so that every output
    /// row is computed with bounds-free vectors (`n2n_depthwise_row`: 16
    /// outputs per vector, all taps accumulated in registers; stride 2 reads 32
    /// inputs and keeps the even lanes). The row then gets the epilogue while in L1.
    func depthwise(_ x: UnsafePointer<Float>, batch: Int, height H: Int, width W: Int,
                   outputHeight ho: Int, outputWidth wo: Int,
                   weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epilogue: ConvolutionEpilogue,
                   into y: UnsafeMutablePointer<Float>) {
        let kH = kernelHeight, kW = kernelWidth, s = stride
        let multiplier = outputChannels / inputChannels
        let P = ho * wo
        let planes = batch * outputChannels
        // Outputs are computed in whole vectors of 16, so the scratch row covers
        // every tap of ⌈wo/16⌉·16 outputs (32 lanes read at stride 2).
        let vectors = (wo + 15) / 16
        let rowLength = max(padding.left + W, (vectors * 16 - 1) * s + kW + (s == 2 ? 16 : 0))
        let scratchRows = max(padding.top + H, (ho - 1) * s + kH)
        Parallel.forEachChunk(count: planes, minimumChunk: max(1, 8192 / (P * kH * kW))) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchRows * rowLength + 16)
            defer { scratch.deallocate() }
            scratch.initialize(repeating: 0, count: scratchRows * rowLength + 16)
            var copiedInput = -1
            for plane in range {
                let n = plane / outputChannels, o = plane % outputChannels
                let inputIndex = n * inputChannels + o / multiplier
                if inputIndex != copiedInput {
                    // Borders stay 0 from the initialisation; only the interior is rewritten.
                    let input = x + inputIndex * H * W
                    for r in 0..<H {
                        (scratch + (padding.top + r) * rowLength + padding.left).update(from: input + r * W, count: W)
                    }
                    copiedInput = inputIndex
                }
                let filter = weight + o * kH * kW
                let output = y + plane * P
                let residual = epilogue.residual.map { $0 + plane * P }
                for i in 0..<ho {
                    let dst = output + i * wo
                    let source = scratch + i * s * rowLength
                    n2n_depthwise_row(source, rowLength, filter, kH, kW, s, wo, dst)
                    epilogue.apply(dst, count: wo, channel: o, bias: bias, residual: residual.map { $0 + i * wo })
                }
            }
        }
    }
}

// MARK: backward
/// Training of `Conv2d` (groups = 1): the backward of
/// `y = conv(x, W) + b`, i.e. per image `y_n = W·cols_n + b` with
/// `cols_n = im2col(x_n)` `[K, P]`, `K = Cin·kH·kW`, `P = Ho·Wo`:
///
/// - `dW (+)= Σ_n dy_n·cols_nᵀ`  `[Cout, K]`
/// - `db (+)= Σ_{n, p} dy[n, ·, p]`  `[Cout]`
/// - `dx = col2im(Wᵀ·dy_n)`  `[N, Cin, H, W]` (overwritten)
///
/// As in `forward`, a workspace for g images makes one GEMM cover g images
/// (`dy` regrouped to `[Cout, g·P]`, columns `[K, g·P]`); the im2col matrix
/// is reused for `Wᵀ·dy` once dW has been accumulated from it.
extension Conv2d {
    /// Floats of workspace `backward` needs for `images` images of `H × W`
    /// per GEMM; the same as `workspaceCount`, so one workspace serves both passes.
    public func backwardWorkspaceCount(height: Int, width: Int, images: Int = 1) -> Int {
        workspaceCount(height: height, width: width, images: images)
    }

    /// Gradients of `y = conv(x, W) + b` given `dy` `[N, Cout, Ho, Wo]` (the
    /// gradient with respect to the convolution's output, before any
    /// epilogue): `dW` `[Cout, Cin, kH, kW]` and `db` `[Cout]` are overwritten,
    /// or added to when `accumulateParameters`; `dx` `[N, Cin, H, W]`, when
    /// given, is overwritten and must alias neither `x` nor `dy`. `workspace`
    /// holds at least `backwardWorkspaceCount(height:width:)` floats (may be
    /// nil when that is 0); groups must be 1.
    public func backward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                         weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                         accumulateParameters: Bool = false,
                         dx: UnsafeMutablePointer<Float>?, workspace: FloatBuffer?) {
        precondition(groups == 1, "Conv2d.backward supports groups = 1 only (got \(groups))")
        let geometry = geometry(height: height, width: width)
        let P = geometry.outputPlane, HW = height * width
        let Cin = inputChannels, Cout = outputChannels
        let K = Cin * kernelHeight * kernelWidth
        let needed = backwardWorkspaceCount(height: height, width: width)
        let available = workspace?.count ?? 0
        precondition(available >= needed, "Conv2d backward workspace holds \(available) floats, needs \(needed)")
        if let biasGradient {
            ChannelMajorBatch.channelSums(dy, count: batch, channels: Cout, plane: P, into: biasGradient,
                                   accumulate: accumulateParameters)
        }
        if batch == 0 {
            if !accumulateParameters { weightGradient.update(repeating: 0, count: Cout * K) }
            return
        }
        let group = imagesPerGEMM(height: height, width: width, batch: batch, available: available)
        var first = 0
        while first < batch {
            let g = min(group, batch - first)
            let ld = g * P
            let xFirst = x + first * Cin * HW, dyFirst = dy + first * Cout * P
            // columns [K, g·P]: the input itself for a pointwise image.
            let columns: UnsafePointer<Float>
            if isPointwise && g == 1 {
                columns = xFirst
            } else {
                geometry.im2col(xFirst, images: g, channels: Cin, into: workspace!.pointer)
                columns = UnsafePointer(workspace!.pointer)
            }
            // dy as [Cout, g·P]: already so for one image.
            let dyMatrix: UnsafePointer<Float>
            if g == 1 {
                dyMatrix = dyFirst
            } else {
                let staged = workspace!.pointer + group * K * P
                ChannelMajorBatch.gather(dyFirst, count: g, channels: Cout, plane: P, into: staged)
                dyMatrix = UnsafePointer(staged)
            }
            // dW [Cout, K] (+)= dy [Cout, g·P] · columnsᵀ [g·P, K]
            gemm(.none, .transposed, m: Cout, n: K, k: ld, a: dyMatrix, lda: ld, b: columns, ldb: ld,
                 beta: first == 0 && !accumulateParameters ? 0 : 1, c: weightGradient, ldc: K)
            if let dx {
                let dxFirst = dx + first * Cin * HW
                if isPointwise && g == 1 {
                    // dx_n [Cin, P] = Wᵀ · dy_n
                    gemm(.transposed, .none, m: Cin, n: P, k: Cout, a: weight, lda: K, b: dyMatrix, ldb: P,
                         c: dxFirst, ldc: P)
                } else {
                    // dcolumns [K, g·P] = Wᵀ [K, Cout] · dy [Cout, g·P], then col2im.
                    let dcolumns = workspace!.pointer
                    gemm(.transposed, .none, m: K, n: ld, k: Cout, a: weight, lda: K, b: dyMatrix, ldb: ld,
                         c: dcolumns, ldc: ld)
                    geometry.col2im(dcolumns, images: g, channels: Cin, into: dxFirst)
                }
            }
            first += g
        }
    }
}
