import TensorCore

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
