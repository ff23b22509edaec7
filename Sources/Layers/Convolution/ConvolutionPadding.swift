/// Zero padding around the spatial axes of an NCHW image, per side.
///
/// Asymmetric padding is what TensorFlow's "same" convolutions need at
/// stride 2 (EfficientNet-Lite at 224×224 pads 0 on top/left and 1 on
/// bottom/right for k = 3).
public struct Padding2d: Sendable, Equatable, CustomStringConvertible {
    public var top: Int
    public var bottom: Int
    public var left: Int
    public var right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "negative padding")
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// The same padding `p` on every side (PyTorch's `padding=p`).
    public init(_ p: Int) {
        self.init(top: p, bottom: p, left: p, right: p)
    }

    /// `padding=(ph, pw)` as PyTorch names it: `ph` above and below, `pw` left and right.
    public init(vertical: Int, horizontal: Int) {
        self.init(top: vertical, bottom: vertical, left: horizontal, right: horizontal)
    }

    public static let zero = Padding2d(0)

    /// TensorFlow's "same" padding for one axis of `size` with kernel `k` and
    /// stride `s`: total = max((⌈size/s⌉ − 1)·s + k − size, 0), of which the
    /// smaller half goes before (top/left) and the rest after.
    public static func tensorFlowSame(size: Int, kernel: Int, stride: Int) -> (before: Int, after: Int) {
        precondition(size > 0 && kernel > 0 && stride > 0)
        let outputs = (size + stride - 1) / stride
        let total = max((outputs - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2)
    }

    /// TensorFlow "same" padding for an input of `height × width`; the output
    /// is then `⌈height/stride⌉ × ⌈width/stride⌉`.
    public static func tensorFlowSame(height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
                                      stride: Int) -> Padding2d {
        let v = tensorFlowSame(size: height, kernel: kernelHeight, stride: stride)
        let h = tensorFlowSame(size: width, kernel: kernelWidth, stride: stride)
        return Padding2d(top: v.before, bottom: v.after, left: h.before, right: h.after)
    }

    public var description: String { "(top: \(top), bottom: \(bottom), left: \(left), right: \(right))" }
}

/// ⌈a/b⌉ for b > 0 and any sign of a.
@inline(__always)
func ceilingDivision(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? (a + b - 1) / b : -((-a) / b)
}

/// ⌊a/b⌋ for b > 0 and any sign of a.
@inline(__always)
func floorDivision(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// The output positions `o` in `0..<outputs` whose input position
/// `o·stride + offset` lies in `0..<inputs` (an empty range at 0 if none).
@inline(__always)
func validOutputRange(outputs: Int, inputs: Int, stride: Int, offset: Int) -> Range<Int> {
    let low = max(0, ceilingDivision(-offset, stride))
    let high = min(outputs, floorDivision(inputs - 1 - offset, stride) + 1)
    return low < high ? low..<high : 0..<0
}
