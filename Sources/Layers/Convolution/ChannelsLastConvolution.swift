import CKernels
import TensorCore

/// `Conv2d` on channels-last (NHWC) batches, inference only — the layout of
/// mobile networks (EfficientNet-Lite, MobileNet), where it makes every
/// layer one contiguous pass:
///
/// - pointwise (1×1, stride 1, unpadded): one GEMM for the whole batch,
///   `y [N·H·W, Cout] = x [N·H·W, Cin] · Wᵀ`;
/// - depthwise (`groups = Cin = Cout`): a direct loop vectorised across
///   channels, all taps accumulated in registers and the epilogue applied
///   before the single store (no padding copies, any stride);
/// - anything else with `groups = 1` (a network's stem): im2col rows
///   `[pixels, Cin·kH·kW]` in the workspace, then GEMM.
///
/// Shapes: x `[N, H, W, Cin]`, y `[N, Ho, Wo, Cout]`, the epilogue's residual
/// `[N, Ho, Wo, Cout]`; the formula is `Conv2d`'s. Weights come from
/// `channelsLastWeight`.
extension Conv2d {
    /// Whether `forwardChannelsLast` supports this geometry.
    public var supportsChannelsLast: Bool {
        groups == 1 || (isDepthwise && outputChannels == inputChannels)
    }

    /// The weight as `forwardChannelsLast` reads it, from PyTorch's
    /// `[Cout, Cin/groups, kH, kW]`: depthwise filters become `[kH, kW, C]`
    /// (channels contiguous per tap); other weights are used as stored
    /// (`[Cout, Cin·kH·kW]`, matching the im2col column order `(c, u, v)`).
    public func channelsLastWeight(_ weight: [Float]) -> [Float] {
        precondition(weight.count == weightShape.reduce(1, *), "weight has \(weight.count) floats, expected \(weightShape)")
        guard isDepthwise else { return weight }
        let taps = kernelHeight * kernelWidth, C = outputChannels
        var out = [Float](repeating: 0, count: weight.count)
        for c in 0..<C {
            for t in 0..<taps { out[t * C + c] = weight[c * taps + t] }
        }
        return out
    }

    /// Floats of workspace `forwardChannelsLast` needs: im2col rows for at
    /// least one output row of one image (more rows make fewer, larger GEMMs),
    /// or 0 for pointwise and depthwise layers.
    public func channelsLastWorkspaceCount(height: Int, width: Int, images: Int = 1) -> Int {
        if isDepthwise || isPointwise { return 0 }
        let (ho, wo) = outputSize(height: height, width: width)
        return max(1, images) * ho * wo * inputChannels * kernelHeight * kernelWidth
    }

    /// `y = epilogue(conv(x, W) + b)` on NHWC batches; `y` must alias neither
    /// `x` nor `epilogue.residual`.
    public func forwardChannelsLast(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                                    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                    epilogue: ConvolutionEpilogue = .identity, workspace: FloatBuffer?,
                                    into y: UnsafeMutablePointer<Float>) {
        precondition(supportsChannelsLast, "channels-last convolutions take groups 1 or depthwise with multiplier 1")
        let (ho, wo) = outputSize(height: height, width: width)
        let C = outputChannels
        // Per-channel s and t of y = act(s·acc + t + r): bias, scale and shift combined once.
        var s = [Float](repeating: 1, count: C), t = [Float](repeating: 0, count: C)
        for c in 0..<C {
            s[c] = epilogue.scale?[c] ?? 1
            t[c] = (bias?[c] ?? 0) * s[c] + (epilogue.shift?[c] ?? 0)
        }
        s.withUnsafeBufferPointer { sp in
            t.withUnsafeBufferPointer { tp in
                let affine = ChannelsLastAffine(scale: sp.baseAddress!, shift: tp.baseAddress!, channels: C,
                                                residual: epilogue.residual, activation: epilogue.activation.kernelCode)
                forwardChannelsLast(x, batch: batch, height: height, width: width, outputHeight: ho, outputWidth: wo,
                                    weight: weight, affine: affine, workspace: workspace, into: y)
            }
        }
    }

    /// `forwardChannelsLast` with the epilogue's per-channel scale and shift combined.
    func forwardChannelsLast(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                             outputHeight ho: Int, outputWidth wo: Int, weight: UnsafePointer<Float>,
                             affine: ChannelsLastAffine, workspace: FloatBuffer?,
                             into y: UnsafeMutablePointer<Float>) {
        let C = outputChannels
        if isDepthwise {
            depthwiseChannelsLast(x, batch: batch, height: height, width: width, outputHeight: ho,
                                  outputWidth: wo, weight: weight, affine: affine, into: y)
            return
        }
        let rows = batch * ho * wo
        if isPointwise {
            // y [N·H·W, Cout] = x [N·H·W, Cin] · W [Cout, Cin]ᵀ, in blocks of rows whose
            // output stays in cache for the epilogue; with single-threaded BLAS the
            // blocks are spread over the threads.
            let block = max(256, 65536 / C)
            let blocks = (rows + block - 1) / block
            let spread = ComputeThreads.blasThreads == 1 && !Parallel.isInsideRegion
            balancedChunks(count: blocks, parts: spread ? Parallel.threadCount : 1) { _, chunk in
                for b in chunk {
                    let first = b * block, count = min(block, rows - first)
                    gemm(.none, .transposed, m: count, n: C, k: inputChannels, a: x + first * inputChannels,
                         lda: inputChannels, b: weight, ldb: inputChannels, c: y + first * C, ldc: C)
                    affine.apply(y, rows: first..<(first + count), parallel: false)
                }
            }
            return
        }
        let K = inputChannels * kernelHeight * kernelWidth
        let capacity = (workspace?.count ?? 0) / K
        precondition(capacity >= wo, "Conv2d channels-last workspace holds \(workspace?.count ?? 0) floats, needs at least \(wo * K)")
        // Blocks of output rows: im2col, GEMM, epilogue; each thread has its own part of the workspace.
        let spread = ComputeThreads.blasThreads == 1 && !Parallel.isInsideRegion
        let parts = spread ? max(1, min(Parallel.threadCount, capacity / wo)) : 1
        let block = min(capacity / parts, 4096)
        let blocks = (rows + block - 1) / block
        balancedChunks(count: blocks, parts: parts) { part, chunk in
            let columns = workspace!.pointer + part * block * K
            for b in chunk {
                let first = b * block, count = min(block, rows - first)
                im2colChannelsLast(x, height: height, width: width, outputHeight: ho, outputWidth: wo,
                                   rows: first..<(first + count), into: columns, parallel: parts == 1)
                gemm(.none, .transposed, m: count, n: C, k: K, a: columns, lda: K,
                     b: weight, ldb: K, c: y + first * C, ldc: C)
                affine.apply(y, rows: first..<(first + count), parallel: false)
            }
        }
    }

    /// `columns[p − first, (c·kH + u)·kW + v] = x[n, i·s − top + u, j·s − left + v, c]`
    /// for output pixels `p = (n·Ho + i)·Wo + j` in `rows` (0 outside the image).
    func im2colChannelsLast(_ x: UnsafePointer<Float>, height H: Int, width W: Int, outputHeight ho: Int,
                            outputWidth wo: Int, rows: Range<Int>, into columns: UnsafeMutablePointer<Float>,
                            parallel: Bool = true) {
        let kH = kernelHeight, kW = kernelWidth, Cin = inputChannels, K = Cin * kH * kW
        Parallel.forEachChunk(count: rows.count, minimumChunk: parallel ? max(1, 16384 / K) : rows.count) { chunk in
            for local in chunk {
                let p = rows.lowerBound + local
                let n = p / (ho * wo), i = (p / wo) % ho, j = p % wo
                let out = columns + local * K
                for u in 0..<kH {
                    let r = i * stride - padding.top + u
                    for v in 0..<kW {
                        let q = j * stride - padding.left + v
                        let inside = r >= 0 && r < H && q >= 0 && q < W
                        let pixel = x + ((n * H + r) * W + q) * Cin
                        for c in 0..<Cin { out[(c * kH + u) * kW + v] = inside ? pixel[c] : 0 }
                    }
                }
            }
        }
    }

    /// `y[n, i, j, c] = act(s[c]·Σ_{u,v} w[u, v, c]·x[n, i·s − top + u, j·s − left + v, c] + t[c] (+ r))`,
    /// one output row per kernel call (`n2n_depthwise_row_nhwc`), taps outside the image skipped.
    func depthwiseChannelsLast(_ x: UnsafePointer<Float>, batch: Int, height H: Int, width W: Int,
                               outputHeight ho: Int, outputWidth wo: Int, weight: UnsafePointer<Float>,
                               affine: ChannelsLastAffine, into y: UnsafeMutablePointer<Float>) {
        let C = outputChannels
        let rowWork = wo * C * kernelHeight * kernelWidth
        let parts = min(Parallel.threadCount, batch * ho * rowWork / 65536)
        balancedChunks(count: batch * ho, parts: parts) { _, outputRows in
            for outputRow in outputRows {
                let n = outputRow / ho, i = outputRow % ho
                let first = outputRow * wo * C
                n2n_depthwise_row_nhwc(x + n * H * W * C, H, W, C, weight, kernelHeight, kernelWidth, stride,
                                       padding.top, padding.left, i, wo, affine.scale, affine.shift,
                                       affine.residual.map { $0 + first }, affine.activation, y + first)
            }
        }
    }
}

/// Splits `0..<count` into `parts` near-equal ranges (at least one, none
/// empty unless `count` is 0) and runs them concurrently (in order inside
/// another parallel loop); unlike `Parallel.forEachChunk`, small counts are
/// split too.
func balancedChunks(count: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
    let parts = max(1, min(parts, count))
    Parallel.runTasks(parts) { part in body(part, (part * count / parts)..<((part + 1) * count / parts)) }
}

/// The epilogue on channels-last rows: `y[p, c] = act(scale[c]·acc + shift[c] (+ residual[p, c]))`
/// with bias, BatchNorm scale and shift already combined per channel.
struct ChannelsLastAffine {
    let scale: UnsafePointer<Float>
    let shift: UnsafePointer<Float>
    let channels: Int
    let residual: UnsafePointer<Float>?
    let activation: n2n_activation

    /// Applies the epilogue in place to rows (pixels) `rows` of `y [pixels, channels]`.
    func apply(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>, parallel: Bool = true) {
        let C = channels
        Parallel.forEachChunk(count: rows.count, minimumChunk: parallel ? max(1, 32768 / C) : rows.count) { chunk in
            let first = (rows.lowerBound + chunk.lowerBound) * C
            n2n_affine_activation_rows(y + first, y + first, chunk.count, C, scale, shift,
                                       residual.map { $0 + first }, activation)
        }
    }
}
