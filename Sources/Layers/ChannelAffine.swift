/// A per-channel affine map `y[c] = scale[c]·x[c] + shift[c]`, the form an
/// inference BatchNorm takes once folded:
/// `scale = γ/√(running_var + ε)`, `shift = β − running_mean·scale`.
///
/// Either pass `scale`/`shift` to a convolution's `ConvolutionEpilogue`, or
/// fold them into the convolution itself: `W'[o] = scale[o]·W[o]`,
/// `b'[o] = scale[o]·b[o] + shift[o]`.
public struct ChannelAffine: Sendable, Equatable {
    public var scale: [Float]
    public var shift: [Float]

    public init(scale: [Float], shift: [Float]) {
        precondition(scale.count == shift.count, "scale has \(scale.count) channels, shift \(shift.count)")
        self.scale = scale
        self.shift = shift
    }

    /// An inference BatchNorm (γ = `weight`, β = `bias`), computed in Double.
    public init(batchNormWeight gamma: [Float], bias beta: [Float], runningMean: [Float], runningVariance: [Float],
                epsilon: Float = 1e-5) {
        let C = gamma.count
        precondition(beta.count == C && runningMean.count == C && runningVariance.count == C,
                     "BatchNorm tensors disagree on the channel count")
        var scale = [Float](repeating: 0, count: C), shift = scale
        for c in 0..<C {
            let s = Double(gamma[c]) / (Double(runningVariance[c]) + Double(epsilon)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(beta[c]) - Double(runningMean[c]) * s)
        }
        self.init(scale: scale, shift: shift)
    }

    public var channels: Int { scale.count }

    /// Folds into a convolution whose weight has the output channel first
    /// (`Conv2d`: `[Cout, Cin/groups, kH, kW]`); returns the new bias `[Cout]`
    /// (`bias` nil means 0).
    public func fold(intoConvolutionWeight weight: inout [Float], bias: [Float]?) -> [Float] {
        let C = channels
        precondition(weight.count % C == 0, "weight of \(weight.count) floats is not \(C) output channels")
        let per = weight.count / C
        for o in 0..<C {
            for i in (o * per)..<((o + 1) * per) { weight[i] *= scale[o] }
        }
        return foldedBias(bias)
    }

    /// Folds into a transposed convolution's weight `[Cin, Cout, kH, kW]`
    /// (output channel second); returns the new bias `[Cout]`.
    public func fold(intoTransposedConvolutionWeight weight: inout [Float], inputChannels: Int,
                     bias: [Float]?) -> [Float] {
        let C = channels
        precondition(weight.count % (C * inputChannels) == 0, "weight is not [\(inputChannels), \(C), kH, kW]")
        let per = weight.count / (C * inputChannels)
        for c in 0..<inputChannels {
            for o in 0..<C {
                let start = (c * C + o) * per
                for i in start..<(start + per) { weight[i] *= scale[o] }
            }
        }
        return foldedBias(bias)
    }

    /// `scale·b + shift`.
    func foldedBias(_ bias: [Float]?) -> [Float] {
        (0..<channels).map { o in (bias?[o] ?? 0) * scale[o] + shift[o] }
    }
}
