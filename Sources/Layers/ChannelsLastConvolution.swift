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
                                                residual: epilogue.residual, activation: epilogue.activation)
                if isDepthwise {
                    depthwiseChannelsLast(x, batch: batch, height: height, width: width, outputHeight: ho,
                                          outputWidth: wo, weight: weight, affine: affine, into: y)
                    return
                }
                let rows = batch * ho * wo
                if isPointwise {
                    // y [N·H·W, Cout] = x [N·H·W, Cin] · W [Cout, Cin]ᵀ
                    gemm(.none, .transposed, m: rows, n: C, k: inputChannels, a: x, lda: inputChannels,
                         b: weight, ldb: inputChannels, c: y, ldc: C)
                    affine.apply(y, rows: 0..<rows)
                    return
                }
                let K = inputChannels * kernelHeight * kernelWidth
                let capacity = (workspace?.count ?? 0) / K
                precondition(capacity >= wo, "Conv2d channels-last workspace holds \(workspace?.count ?? 0) floats, needs at least \(wo * K)")
                var start = 0
                while start < rows {
                    let count = min(capacity, rows - start)
                    im2colChannelsLast(x, height: height, width: width, outputHeight: ho, outputWidth: wo,
                                       rows: start..<(start + count), into: workspace!.pointer)
                    gemm(.none, .transposed, m: count, n: C, k: K, a: workspace!.pointer, lda: K,
                         b: weight, ldb: K, c: y + start * C, ldc: C)
                    affine.apply(y, rows: start..<(start + count))
                    start += count
                }
            }
        }
    }

    /// `columns[p − first, (c·kH + u)·kW + v] = x[n, i·s − top + u, j·s − left + v, c]`
    /// for output pixels `p = (n·Ho + i)·Wo + j` in `rows` (0 outside the image).
    func im2colChannelsLast(_ x: UnsafePointer<Float>, height H: Int, width W: Int, outputHeight ho: Int,
                            outputWidth wo: Int, rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
        let kH = kernelHeight, kW = kernelWidth, Cin = inputChannels, K = Cin * kH * kW
        Parallel.forEachChunk(count: rows.count, minimumChunk: max(1, 16384 / K)) { chunk in
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
    /// 32 channels (four 8-lane accumulators) at a time, taps outside the image skipped.
    func depthwiseChannelsLast(_ x: UnsafePointer<Float>, batch: Int, height H: Int, width W: Int,
                               outputHeight ho: Int, outputWidth wo: Int, weight: UnsafePointer<Float>,
                               affine: ChannelsLastAffine, into y: UnsafeMutablePointer<Float>) {
        let kH = kernelHeight, kW = kernelWidth, s = stride, C = outputChannels
        let top = padding.top, left = padding.left
        let rowWork = wo * C * kH * kW
        Parallel.forEachChunk(count: batch * ho, minimumChunk: max(1, 65536 / max(1, rowWork))) { outputRows in
            for outputRow in outputRows {
                let n = outputRow / ho, i = outputRow % ho
                let r0 = i * s - top
                let uLow = max(0, -r0), uHigh = min(kH, H - r0)
                let image = x + n * H * W * C
                for j in 0..<wo {
                    let q0 = j * s - left
                    let vLow = max(0, -q0), vHigh = min(kW, W - q0)
                    let pixel = outputRow * wo + j
                    let out = y + pixel * C
                    var c = 0
                    while c + 32 <= C {
                        var a0 = Lanes.V(repeating: 0), a1 = a0, a2 = a0, a3 = a0
                        for u in uLow..<uHigh {
                            let src = image + ((r0 + u) * W + q0) * C + c
                            let w = weight + u * kW * C + c
                            for v in vLow..<vHigh {
                                let xs = src + v * C, ws = w + v * C
                                a0 = a0.addingProduct(Lanes.load(xs, 0), Lanes.load(ws, 0))
                                a1 = a1.addingProduct(Lanes.load(xs, 8), Lanes.load(ws, 8))
                                a2 = a2.addingProduct(Lanes.load(xs, 16), Lanes.load(ws, 16))
                                a3 = a3.addingProduct(Lanes.load(xs, 24), Lanes.load(ws, 24))
                            }
                        }
                        affine.store(a0, out, pixel: pixel, channel: c)
                        affine.store(a1, out, pixel: pixel, channel: c + 8)
                        affine.store(a2, out, pixel: pixel, channel: c + 16)
                        affine.store(a3, out, pixel: pixel, channel: c + 24)
                        c += 32
                    }
                    while c < C {
                        // 8 channels, or the last few through a zero-filled vector.
                        let lanes = min(8, C - c)
                        var a = Lanes.V(repeating: 0)
                        for u in uLow..<uHigh {
                            let src = image + ((r0 + u) * W + q0) * C + c
                            let w = weight + u * kW * C + c
                            for v in vLow..<vHigh {
                                if lanes == 8 {
                                    a = a.addingProduct(Lanes.load(src + v * C, 0), Lanes.load(w + v * C, 0))
                                } else {
                                    for l in 0..<lanes { a[l] += src[v * C + l] * w[v * C + l] }
                                }
                            }
                        }
                        affine.store(a, out, pixel: pixel, channel: c, lanes: lanes)
                        c += lanes
                    }
                }
            }
        }
    }
}

/// The epilogue on channels-last rows: `y[p, c] = act(scale[c]·acc + shift[c] (+ residual[p, c]))`
/// with bias, BatchNorm scale and shift already combined per channel.
struct ChannelsLastAffine {
    let scale: UnsafePointer<Float>
    let shift: UnsafePointer<Float>
    let channels: Int
    let residual: UnsafePointer<Float>?
    let activation: ConvolutionActivation

    @inline(__always)
    func activate(_ v: Lanes.V) -> Lanes.V {
        switch activation {
        case .none: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .relu6: return v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6)
        case .tanh: return Vector.tanh(v)
        }
    }

    /// Finishes accumulator `a` (channels `channel..<channel + lanes` of `pixel`) into `out + (channel − c0)`.
    @inline(__always)
    func store(_ a: Lanes.V, _ out: UnsafeMutablePointer<Float>, pixel: Int, channel: Int, lanes: Int = 8) {
        if lanes == 8 {
            var v = a * Lanes.load(scale, channel) + Lanes.load(shift, channel)
            if let residual { v += Lanes.load(residual + pixel * channels, channel) }
            Lanes.store(activate(v), out, channel)
            return
        }
        var v = Lanes.V(repeating: 0)
        for l in 0..<lanes {
            v[l] = a[l] * scale[channel + l] + shift[channel + l] + (residual?[pixel * channels + channel + l] ?? 0)
        }
        v = activate(v)
        for l in 0..<lanes { out[channel + l] = v[l] }
    }

    /// Applies the epilogue in place to rows (pixels) `rows` of `y [pixels, channels]`.
    func apply(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let C = channels
        Parallel.forEachChunk(count: rows.count, minimumChunk: max(1, 32768 / C)) { chunk in
            for local in chunk {
                let p = rows.lowerBound + local
                let row = y + p * C
                var c = 0
                while c + 8 <= C { store(Lanes.load(row, c), row, pixel: p, channel: c); c += 8 }
                if c < C {
                    var a = Lanes.V(repeating: 0)
                    for l in 0..<(C - c) { a[l] = row[c + l] }
                    store(a, row, pixel: p, channel: c, lanes: C - c)
                }
            }
        }
    }
}
