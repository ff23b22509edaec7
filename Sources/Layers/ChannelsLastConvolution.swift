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
                func run<A: LaneActivation>(_: A.Type) {
                    let affine = ChannelsLastAffine<A>(scale: sp.baseAddress!, shift: tp.baseAddress!, channels: C,
                                                       residual: epilogue.residual)
                    forwardChannelsLast(x, batch: batch, height: height, width: width, outputHeight: ho, outputWidth: wo,
                                        weight: weight, affine: affine, workspace: workspace, into: y)
                }
                switch epilogue.activation {
                case .none: run(IdentityLanes.self)
                case .relu: run(ReLULanes.self)
                case .relu6: run(ReLU6Lanes.self)
                case .tanh: run(TanhLanes.self)
                }
            }
        }
    }

    /// `forwardChannelsLast` with the activation as a type, so each kernel is specialised for it.
    func forwardChannelsLast<A: LaneActivation>(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                                                outputHeight ho: Int, outputWidth wo: Int, weight: UnsafePointer<Float>,
                                                affine: ChannelsLastAffine<A>, workspace: FloatBuffer?,
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
    /// 32 channels (four 8-lane accumulators) at a time, taps outside the image skipped.
    func depthwiseChannelsLast<A: LaneActivation>(_ x: UnsafePointer<Float>, batch: Int, height H: Int, width W: Int,
                                                  outputHeight ho: Int, outputWidth wo: Int, weight: UnsafePointer<Float>,
                                                  affine: ChannelsLastAffine<A>, into y: UnsafeMutablePointer<Float>) {
        let kH = kernelHeight, kW = kernelWidth, s = stride, C = outputChannels
        let top = padding.top, left = padding.left
        let rowWork = wo * C * kH * kW
        let parts = min(Parallel.threadCount, batch * ho * rowWork / 65536)
        balancedChunks(count: batch * ho, parts: parts) { _, outputRows in
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
                                a0 = a0.addingProduct(load(xs, 0), load(ws, 0))
                                a1 = a1.addingProduct(load(xs, 8), load(ws, 8))
                                a2 = a2.addingProduct(load(xs, 16), load(ws, 16))
                                a3 = a3.addingProduct(load(xs, 24), load(ws, 24))
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
                                    a = a.addingProduct(load(src + v * C, 0), load(w + v * C, 0))
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

/// Splits `0..<count` into `parts` near-equal ranges (at least one, none
/// empty unless `count` is 0) and runs them concurrently (in order inside
/// another parallel loop); unlike `Parallel.forEachChunk`, small counts are
/// split too.
func balancedChunks(count: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
    let parts = max(1, min(parts, count))
    Parallel.runTasks(parts) { part in body(part, (part * count / parts)..<((part + 1) * count / parts)) }
}

/// 8 floats at `p + i` (the kernels here inline it by hand; `Lanes.load` was left as a call).
@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lanes.V {
    UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.V.self)
}

/// An activation on 8 lanes, as a type so that kernels specialise on it.
protocol LaneActivation { static func apply(_ v: Lanes.V) -> Lanes.V }
enum IdentityLanes: LaneActivation { @inline(__always) static func apply(_ v: Lanes.V) -> Lanes.V { v } }
enum ReLULanes: LaneActivation {
    @inline(__always) static func apply(_ v: Lanes.V) -> Lanes.V { v.replacing(with: 0, where: v .< 0) }
}
enum ReLU6Lanes: LaneActivation {
    @inline(__always) static func apply(_ v: Lanes.V) -> Lanes.V {
        v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6)
    }
}
enum TanhLanes: LaneActivation { @inline(__always) static func apply(_ v: Lanes.V) -> Lanes.V { Vector.tanh(v) } }

/// The epilogue on channels-last rows: `y[p, c] = act(scale[c]·acc + shift[c] (+ residual[p, c]))`
/// with bias, BatchNorm scale and shift already combined per channel.
struct ChannelsLastAffine<A: LaneActivation> {
    let scale: UnsafePointer<Float>
    let shift: UnsafePointer<Float>
    let channels: Int
    let residual: UnsafePointer<Float>?

    @inline(__always)
    func activate(_ v: Lanes.V) -> Lanes.V { A.apply(v) }

    /// Finishes accumulator `a` (channels `channel..<channel + lanes` of `pixel`) into `out + (channel − c0)`.
    @inline(__always)
    func store(_ a: Lanes.V, _ out: UnsafeMutablePointer<Float>, pixel: Int, channel: Int, lanes: Int = 8) {
        if lanes == 8 {
            var v = a * load(scale, channel) + load(shift, channel)
            if let residual { v += load(residual + pixel * channels, channel) }
            UnsafeMutableRawPointer(out + channel).storeBytes(of: activate(v), as: Lanes.V.self)
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
    func apply(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>, parallel: Bool = true) {
        let C = channels
        Parallel.forEachChunk(count: rows.count, minimumChunk: parallel ? max(1, 32768 / C) : rows.count) { chunk in
            for local in chunk {
                let p = rows.lowerBound + local
                let row = y + p * C
                var c = 0
                while c + 8 <= C { store(load(row, c), row, pixel: p, channel: c); c += 8 }
                if c < C {
                    var a = Lanes.V(repeating: 0)
                    for l in 0..<(C - c) { a[l] = row[c + l] }
                    store(a, row, pixel: p, channel: c, lanes: C - c)
                }
            }
        }
    }
}
