import Layers
import TensorCore

/// One half of a double affine coupling: transforms `change` given `keep`
/// and the condition embedding e.
///
/// ```
/// h = [keep, e]                                  [B, keepDimension + E]
/// s = tanh(S(h)),  t = T(h)                      [B, changeDimension]
/// change' = change · exp(s) + t,   log|det| = Σⱼ sⱼ
/// ```
/// S and T are MLPs: Linear(in → H), LeakyReLU, `depth` × [Linear(H → H),
/// LeakyReLU], Linear(H → out), named like PyTorch `nn.Sequential`s
/// (`s0.layers.0`, `s0.layers.2`, …). They are independent given h, so the
/// two chains run concurrently (`ComputeThreads.forEachIndependentTask`),
/// and their weights are kept transposed in memory (see `Linear`).
public struct CouplingHalf: Sendable {
    public let keepDimension: Int
    public let changeDimension: Int
    public let embeddingDimension: Int
    public let hiddenDimension: Int
    public let depth: Int
    public let slope: Float
    /// The layers of net 0 = S and net 1 = T, input layer first.
    let layers: [[Linear]]

    var inputWidth: Int { keepDimension + embeddingDimension }

    public init(_ name: String, index: Int, keepDimension: Int, changeDimension: Int,
                embeddingDimension: Int, hiddenDimension: Int, depth: Int, slope: Float,
                layout: inout ParameterLayout) {
        self.keepDimension = keepDimension
        self.changeDimension = changeDimension
        self.embeddingDimension = embeddingDimension
        self.hiddenDimension = hiddenDimension
        self.depth = depth
        self.slope = slope
        let H = hiddenDimension
        layers = ["s", "t"].map { net in
            (0...(depth + 1)).map { k in
                Linear("\(name).\(net)\(index).layers.\(2 * k)",
                       inputDimension: k == 0 ? keepDimension + embeddingDimension : H,
                       outputDimension: k == depth + 1 ? changeDimension : H,
                       storedTransposed: true, layout: &layout)
            }
        }
    }

    /// The output layers of S and T.
    var outputLayers: [Linear] { layers.map { $0[depth + 1] } }

    /// Linear layers in initialisation order.
    var allLinear: [Linear] { layers.flatMap { $0 } }

    /// Activations of one forward pass, kept for `backward`, plus scratch.
    public final class Workspace {
        let input: FloatBuffer              // [B, in]
        let activations: [[FloatBuffer]]    // [net][k] [B, H] after LeakyReLU, k = 0…depth
        let scale: FloatBuffer              // s = tanh(·) [B, out]
        let shift: FloatBuffer              // t [B, out]
        let expScale: FloatBuffer           // exp(s) [B, out]
        let change: FloatBuffer             // the untransformed input [B, out]
        // Backward scratch, per net.
        let dHidden: [[FloatBuffer]]        // [net][2] ping-pong [B, H]
        let dOutput: [FloatBuffer]          // [net] [B, out]
        let dInput: [FloatBuffer]           // [net] [B, in]

        init(_ half: CouplingHalf, batch B: Int) {
            let H = half.hiddenDimension, out = half.changeDimension
            input = FloatBuffer(count: B * half.inputWidth)
            activations = (0..<2).map { _ in (0...half.depth).map { _ in FloatBuffer(count: B * H) } }
            scale = FloatBuffer(count: B * out)
            shift = FloatBuffer(count: B * out)
            expScale = FloatBuffer(count: B * out)
            change = FloatBuffer(count: B * out)
            dHidden = (0..<2).map { _ in [FloatBuffer(count: B * H), FloatBuffer(count: B * H)] }
            dOutput = (0..<2).map { _ in FloatBuffer(count: B * out) }
            dInput = (0..<2).map { _ in FloatBuffer(count: B * half.inputWidth) }
        }
    }

    /// Runs S and T on `[keep, e]`, leaving s, t and exp(s) in the workspace.
    func conditioner(keep: UnsafePointer<Float>, ldKeep: Int, batch B: Int,
                     embedding: UnsafePointer<Float>?, parameters: UnsafePointer<Float>, workspace w: Workspace) {
        let H = hiddenDimension, inW = inputWidth, out = changeDimension
        copyMatrix(keep, ld: ldKeep, into: w.input.pointer, ld: inW, rows: B, columns: keepDimension)
        if let embedding, embeddingDimension > 0 {
            copyMatrix(embedding, ld: embeddingDimension, into: w.input.pointer + keepDimension, ld: inW,
                       rows: B, columns: embeddingDimension)
        }
        ComputeThreads.forEachIndependentTask(2) { net in
            var h = UnsafePointer(w.input.pointer)
            var ldh = inW
            for k in 0...depth {
                let y = w.activations[net][k].pointer
                layers[net][k].forward(h, ldx: ldh, batch: B, parameters: parameters, into: y, ldy: H)
                Vector.leakyReLU(y, y, count: B * H, slope: slope)
                h = UnsafePointer(y)
                ldh = H
            }
            let target = net == 0 ? w.scale.pointer : w.shift.pointer
            layers[net][depth + 1].forward(h, ldx: H, batch: B, parameters: parameters, into: target, ldy: out)
        }
        Vector.tanh(w.scale.pointer, w.scale.pointer, count: B * out)
        Vector.exp(w.scale.pointer, w.expScale.pointer, count: B * out)
    }

    /// `result = change · exp(s) + t`; adds Σ s to `logDet`.
    func forward(keep: UnsafePointer<Float>, ldKeep: Int, change: UnsafePointer<Float>, ldChange: Int,
                 into result: UnsafeMutablePointer<Float>, ldResult: Int, batch B: Int,
                 embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, workspace w: Workspace) {
        conditioner(keep: keep, ldKeep: ldKeep, batch: B, embedding: embedding, parameters: parameters, workspace: w)
        let out = changeDimension
        copyMatrix(change, ld: ldChange, into: w.change.pointer, ld: out, rows: B, columns: out)
        for r in 0..<B {
            let c = w.change.pointer + r * out, e = w.expScale.pointer + r * out, t = w.shift.pointer + r * out
            let y = result + r * ldResult
            for j in 0..<out { y[j] = c[j] * e[j] + t[j] }
            logDet[r] += Vector.sum(w.scale.pointer + r * out, count: out)
        }
    }

    /// `result = (change' − t) · exp(−s)`; subtracts Σ s from `logDet`.
    func inverse(keep: UnsafePointer<Float>, ldKeep: Int, changed: UnsafePointer<Float>, ldChanged: Int,
                 into result: UnsafeMutablePointer<Float>, ldResult: Int, batch B: Int,
                 embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, workspace w: Workspace) {
        conditioner(keep: keep, ldKeep: ldKeep, batch: B, embedding: embedding, parameters: parameters, workspace: w)
        let out = changeDimension
        for r in 0..<B {
            let s = w.scale.pointer + r * out, t = w.shift.pointer + r * out, e = w.expScale.pointer + r * out
            let y = changed + r * ldChanged, x = result + r * ldResult
            for j in 0..<out { x[j] = (y[j] - t[j]) / e[j] }
            logDet[r] -= Vector.sum(s, count: out)
        }
    }

    /// Zeroes the alignment padding between W and b in a gradient buffer
    /// addressed like the parameters (`gradients + offset`), so that an
    /// update of `layer.parameterRange` sees zero there, as in `gradients`.
    private func zeroPaddingGradient(of layer: Linear, in gradients: UnsafeMutablePointer<Float>) {
        let weightEnd = layer.weightOffset + layer.inputDimension * layer.outputDimension
        if layer.biasOffset > weightEnd { (gradients + weightEnd).update(repeating: 0, count: layer.biasOffset - weightEnd) }
    }

    /// Backward of `forward`. Given `dChanged` (gradient of the transformed
    /// part) and `dLogDet` per row: writes `dChange`, *adds* into `dKeep`,
    /// the parameter gradients and `dEmbedding`.
    ///
    /// With `fused`, each Linear's gradient is computed into the net's
    /// scratch buffer instead of `gradients`, and its W and b are updated
    /// from there at once (they are not read again in this pass).
    func backward(dChanged: UnsafePointer<Float>, ldDChanged: Int, dLogDet: UnsafePointer<Float>,
                  dChange: UnsafeMutablePointer<Float>, ldDChange: Int,
                  dKeep: UnsafeMutablePointer<Float>, ldDKeep: Int, batch B: Int,
                  parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  dEmbedding: UnsafeMutablePointer<Float>?, workspace w: Workspace, fused: FusedUpdate?) {
        let H = hiddenDimension, inW = inputWidth, out = changeDimension
        ComputeThreads.forEachIndependentTask(2) { net in
            // Gradient at the net's output: dt = dy; ds = dy·change·exp(s) + dLogDet, through tanh.
            let dPre = w.dOutput[net].pointer
            for r in 0..<B {
                let dy = dChanged + r * ldDChanged
                let o = r * out
                if net == 0 {
                    for j in 0..<out {
                        let s = w.scale.pointer[o + j]
                        let ds = dy[j] * w.change.pointer[o + j] * w.expScale.pointer[o + j] + dLogDet[r]
                        dPre[o + j] = ds * (1 - s * s)
                    }
                } else {
                    for j in 0..<out { dPre[o + j] = dy[j] }
                }
            }
            var dCurrent = UnsafePointer(dPre)
            var ldCurrent = out
            var ping = 0
            for k in stride(from: depth + 1, through: 0, by: -1) {
                let input = k > 0 ? UnsafePointer(w.activations[net][k - 1].pointer) : UnsafePointer(w.input.pointer)
                let ldInput = k > 0 ? H : inW
                let dx = k > 0 ? w.dHidden[net][ping].pointer : w.dInput[net].pointer
                let layer = layers[net][k]
                if let fused {
                    // The gradient goes to scratch (addressed like the parameters), is applied, and never reaches memory.
                    let scratch = fused.scratch[net], span = layer.parameterRange
                    zeroPaddingGradient(of: layer, in: scratch - span.lowerBound)
                    layer.backward(input, ldx: ldInput, batch: B, dy: dCurrent, lddy: ldCurrent,
                                   parameters: parameters, gradients: scratch - span.lowerBound, dx: dx, lddx: ldInput)
                    fused.step.apply(span, gradients: scratch)
                } else {
                    layer.backward(input, ldx: ldInput, batch: B, dy: dCurrent, lddy: ldCurrent,
                                   parameters: parameters, gradients: gradients, dx: dx, lddx: ldInput)
                }
                if k > 0 {
                    // Through the LeakyReLU that produced layer k's input.
                    Vector.leakyReLUBackward(y: w.activations[net][k - 1].pointer, dy: dx, dx: dx,
                                             count: B * H, slope: slope)
                    dCurrent = UnsafePointer(dx)
                    ldCurrent = H
                    ping = 1 - ping
                }
            }
        }
        let dInS = w.dInput[0].pointer, dInT = w.dInput[1].pointer
        for r in 0..<B {
            let ds = dInS + r * inW, dt = dInT + r * inW
            let dk = dKeep + r * ldDKeep
            for j in 0..<keepDimension { dk[j] += ds[j] + dt[j] }
            if let dEmbedding, embeddingDimension > 0 {
                let de = dEmbedding + r * embeddingDimension
                for j in 0..<embeddingDimension { de[j] += ds[keepDimension + j] + dt[keepDimension + j] }
            }
            let dy = dChanged + r * ldDChanged, dc = dChange + r * ldDChange, e = w.expScale.pointer + r * out
            for j in 0..<out { dc[j] = dy[j] * e[j] }
        }
    }
}

/// An optimiser step applied during backward: each coupling Linear's
/// gradient is computed into `scratch[net]` (one buffer per concurrently
/// running net, as long as the largest `Linear.parameterRange`) and applied
/// from there while it is in cache.
struct FusedUpdate {
    let step: Adam.Step
    let scratch: [UnsafeMutablePointer<Float>]
}

/// The double affine coupling of the reference (`DoubleVectorCouplingBlock`):
/// x = (a, b) with a = x[:, ..<D/2], b = x[:, D/2...];
/// b' = b·exp(s₀([a, e])) + t₀([a, e]); a' = a·exp(s₁([b', e])) + t₁([b', e]);
/// y = (b', a'). Works for odd D (the halves then differ by one).
public struct AffineCoupling: InvertibleLayer, Sendable {
    public let dimension: Int
    public let halves: [CouplingHalf]
    var firstSize: Int { dimension / 2 }
    var secondSize: Int { dimension - dimension / 2 }

    public init(_ name: String, dimension: Int, embeddingDimension: Int, hiddenDimension: Int,
                depth: Int, slope: Float = 0.01, layout: inout ParameterLayout) {
        precondition(dimension >= 2, "a coupling needs at least two features")
        self.dimension = dimension
        let d1 = dimension / 2, d2 = dimension - d1
        halves = [
            CouplingHalf(name, index: 0, keepDimension: d1, changeDimension: d2, embeddingDimension: embeddingDimension,
                         hiddenDimension: hiddenDimension, depth: depth, slope: slope, layout: &layout),
            CouplingHalf(name, index: 1, keepDimension: d2, changeDimension: d1, embeddingDimension: embeddingDimension,
                         hiddenDimension: hiddenDimension, depth: depth, slope: slope, layout: &layout),
        ]
    }

    public final class Workspace {
        let halves: [CouplingHalf.Workspace]
        let dMiddle: FloatBuffer  // gradient of b' [B, d2]
        init(_ coupling: AffineCoupling, batch: Int) {
            halves = coupling.halves.map { CouplingHalf.Workspace($0, batch: batch) }
            dMiddle = FloatBuffer(count: batch * coupling.secondSize)
        }
    }

    public func makeWorkspace(batch: Int) -> Workspace { Workspace(self, batch: batch) }

    public func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator) {
        for half in halves { for layer in half.allLinear { layer.initialize(parameters, using: &generator) } }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let D = dimension, d1 = firstSize, d2 = secondSize
        // b' into y[:, ..<d2], from keep a = x[:, ..<d1] and change b = x[:, d1...].
        halves[0].forward(keep: x, ldKeep: D, change: x + d1, ldChange: D, into: y, ldResult: D, batch: batch,
                          embedding: embedding, logDet: logDet, parameters: parameters, workspace: workspace.halves[0])
        // a' into y[:, d2...], from keep b' and change a.
        halves[1].forward(keep: y, ldKeep: D, change: x, ldChange: D, into: y + d2, ldResult: D, batch: batch,
                          embedding: embedding, logDet: logDet, parameters: parameters, workspace: workspace.halves[1])
    }

    public func inverse(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let D = dimension, d1 = firstSize, d2 = secondSize
        // a = from a' = y[:, d2...] given b' = y[:, ..<d2].
        halves[1].inverse(keep: y, ldKeep: D, changed: y + d2, ldChanged: D, into: x, ldResult: D, batch: batch,
                          embedding: embedding, logDet: logDet, parameters: parameters, workspace: workspace.halves[1])
        // b = from b' given a.
        halves[0].inverse(keep: x, ldKeep: D, changed: y, ldChanged: D, into: x + d1, ldResult: D, batch: batch,
                          embedding: embedding, logDet: logDet, parameters: parameters, workspace: workspace.halves[0])
    }

    public func backward(dy: UnsafePointer<Float>, dLogDet: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                         batch: Int, embedding: UnsafePointer<Float>?,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dEmbedding: UnsafeMutablePointer<Float>?, workspace: Workspace) {
        backward(dy: dy, dLogDet: dLogDet, into: dx, batch: batch, embedding: embedding, parameters: parameters,
                 gradients: gradients, dEmbedding: dEmbedding, workspace: workspace, fused: nil)
    }

    /// `backward`, with each Linear's optimiser update fused in when
    /// `fused` is given (see `CouplingHalf.backward`).
    func backward(dy: UnsafePointer<Float>, dLogDet: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                  batch: Int, embedding: UnsafePointer<Float>?,
                  parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  dEmbedding: UnsafeMutablePointer<Float>?, workspace: Workspace, fused: FusedUpdate?) {
        let D = dimension, d1 = firstSize, d2 = secondSize
        let dMiddle = workspace.dMiddle.pointer
        copyMatrix(dy, ld: D, into: dMiddle, ld: d2, rows: batch, columns: d2)
        // Half 1: changed a' = dy[:, d2...] → da into dx[:, ..<d1]; keep b' adds into dMiddle.
        halves[1].backward(dChanged: dy + d2, ldDChanged: D, dLogDet: dLogDet,
                           dChange: dx, ldDChange: D, dKeep: dMiddle, ldDKeep: d2, batch: batch,
                           parameters: parameters, gradients: gradients, dEmbedding: dEmbedding,
                           workspace: workspace.halves[1], fused: fused)
        // Half 0: changed b' → db into dx[:, d1...]; keep a adds into dx[:, ..<d1].
        halves[0].backward(dChanged: dMiddle, ldDChanged: d2, dLogDet: dLogDet,
                           dChange: dx + d1, ldDChange: D, dKeep: dx, ldDKeep: D, batch: batch,
                           parameters: parameters, gradients: gradients, dEmbedding: dEmbedding,
                           workspace: workspace.halves[0], fused: fused)
    }
}
