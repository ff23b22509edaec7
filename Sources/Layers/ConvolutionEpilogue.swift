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
        let s = scale?[channel] ?? 1
        let t = (bias?[channel] ?? 0) * s + (shift?[channel] ?? 0)
        if s == 1 && t == 0 && residual == nil && activation == .none { return }
        switch activation {
        case .none: Lanes.affine(y, count, s, t, residual) { $0 }
        case .relu: Lanes.affine(y, count, s, t, residual) { $0.replacing(with: 0, where: $0 .< 0) }
        case .relu6:
            // Not `clamped(lowerBound:upperBound:)`: that generic stays unspecialised and is ~10× slower.
            Lanes.affine(y, count, s, t, residual) {
                $0.replacing(with: 0, where: $0 .< 0).replacing(with: 6, where: $0 .> 6)
            }
        case .tanh: Lanes.affine(y, count, s, t, residual) { Vector.tanh($0) }
        }
    }
}

/// 8-lane helpers for the convolution kernels (TensorCore keeps its own internal).
enum Lanes {
    typealias V = SIMD8<Float>
    static let width = 8

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
    }

    /// `y[i] = f(s·y[i] + t (+ r[i]))` for `i < count`.
    @inline(__always)
    static func affine(_ y: UnsafeMutablePointer<Float>, _ count: Int, _ s: Float, _ t: Float,
                       _ r: UnsafePointer<Float>?, _ f: (V) -> V) {
        var i = 0
        if let r {
            while i + width <= count { store(f(load(y, i) * s + t + load(r, i)), y, i); i += width }
        } else {
            while i + width <= count { store(f(load(y, i) * s + t), y, i); i += width }
        }
        if i < count {
            var v = V(repeating: 0)
            for lane in 0..<(count - i) { v[lane] = y[i + lane] * s + t + (r?[i + lane] ?? 0) }
            v = f(v)
            for lane in 0..<(count - i) { y[i + lane] = v[lane] }
        }
    }

    /// `y[i] += a·x[i]` for `i < count` (contiguous).
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        let av = V(repeating: a)
        while i + width <= count { store(load(y, i) + av * load(x, i), y, i); i += width }
        while i < count { y[i] += a * x[i]; i += 1 }
    }

    /// `y[j] += a·x[2j]` for `j` in `range`, reading `x` only below `inputWidth`
    /// (8 outputs from 16 contiguous inputs, keeping the even lanes).
    @inline(__always)
    static func axpyEven(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>,
                         inputWidth: Int) {
        var j = range.lowerBound
        let av = V(repeating: a)
        while j + width <= range.upperBound && 2 * j + 2 * width <= inputWidth {
            let pairs = UnsafeRawPointer(x + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
            let even = V(pairs[0], pairs[2], pairs[4], pairs[6], pairs[8], pairs[10], pairs[12], pairs[14])
            store(load(y, j) + av * even, y, j)
            j += width
        }
        while j < range.upperBound { y[j] += a * x[2 * j]; j += 1 }
    }
}
