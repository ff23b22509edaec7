import CKernels
import TensorCore

/// The activation a convolution applies to its output in the same pass.
public enum ConvolutionActivation: Sendable, Equatable {
    case none
    /// max(x, 0)
    case relu
    /// min(max(x, 0), 6), as in MobileNet and EfficientNet-Lite.
    case relu6
    /// tanh(x), the DCGAN generator's output.
    case tanh
}

/// Work fused into the final pass over a convolution's output:
/// `y[n, c, p] = act(scale[c]·(conv[n, c, p] + bias[c]) + shift[c] + residual[n, c, p])`.
///
/// `scale`/`shift` are `[Cout]` (a folded inference BatchNorm, see
/// `ChannelAffine`), `residual` is the whole output's shape `[N, Cout, Ho, Wo]`;
/// each is optional (identity when nil). The pointers must stay valid during the call.
public struct ConvolutionEpilogue {
    public var scale: UnsafePointer<Float>?
    public var shift: UnsafePointer<Float>?
    public var residual: UnsafePointer<Float>?
    public var activation: ConvolutionActivation

    public init(scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil,
                residual: UnsafePointer<Float>? = nil, activation: ConvolutionActivation = .none) {
        self.scale = scale
        self.shift = shift
        self.residual = residual
        self.activation = activation
    }

    /// No scale, shift, residual or activation.
    public static var identity: ConvolutionEpilogue { ConvolutionEpilogue() }

    /// Applies the epilogue in place to `count` outputs of channel `channel`
    /// starting at `y`; `residual` points at the matching residual elements.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, count: Int, channel: Int,
               bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?) {
        let (s, t) = affine(channel: channel, bias: bias)
        if s == 1 && t == 0 && residual == nil && activation == .none { return }
        n2n_affine_activation(y, y, count, s, t, residual, activation.kernelCode)
    }
}

extension ConvolutionEpilogue {
    /// Channel `channel`'s `(s, t)` with `y = act(s·conv + t (+ residual))`.
    @inline(__always)
    func affine(channel: Int, bias: UnsafePointer<Float>?) -> (scale: Float, shift: Float) {
        let s = scale?[channel] ?? 1
        return (s, (bias?[channel] ?? 0) * s + (shift?[channel] ?? 0))
    }
}

extension ConvolutionActivation {
    /// The activation as the C kernels name it.
    var kernelCode: n2n_activation {
        switch self {
        case .none: return N2N_ACT_NONE
        case .relu: return N2N_ACT_RELU
        case .relu6: return N2N_ACT_RELU6
        case .tanh: return N2N_ACT_TANH
        }
    }
}
