import CKernels
import TensorCore

/// Elementwise activations with their derivatives, for training:
///
/// | case            | y = f(x)                  | f′ from x             | f′ from y            |
/// |-----------------|---------------------------|-----------------------|----------------------|
/// | identity        | x                         | 1                     | 1                    |
/// | relu            | max(x, 0)                 | x > 0                 | y > 0                |
/// | leakyReLU(a)    | x > 0 ? x : a·x           | x > 0 ? 1 : a         | y > 0 ? 1 : a (a > 0)|
/// | tanh            | tanh x                    | 1 − tanh²x            | 1 − y²               |
/// | sigmoid         | 1/(1 + e⁻ˣ)               | σ(x)(1 − σ(x))        | y(1 − y)             |
///
/// The derivative at 0 is that of the negative side (PyTorch's convention
/// for relu). Every kernel is a run-time-dispatched vector kernel (`InstructionSet`), in parallel chunks for long
/// buffers; outputs may alias inputs (in place).
public enum Activation: Sendable, Equatable {
    case identity
    case relu
    case leakyReLU(slope: Float)
    case tanh
    case sigmoid

    /// Whether `backward(output:)` is exact: the output determines f′
    /// (leaky ReLU needs a positive slope to keep the sign).
    public var isInvertibleFromOutput: Bool {
        if case .leakyReLU(let a) = self { return a > 0 }
        return true
    }

    /// `y[i] = f(x[i])` for `i < count`.
    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity:
            if UnsafePointer(y) != x { y.update(from: x, count: count) }
        case .relu: Activation.chunked(count) { r in
            n2n_affine_activation(x + r.lowerBound, y + r.lowerBound, r.count, 1, 0, nil, N2N_ACT_RELU)
        }
        case .leakyReLU(let a): Activation.chunked(count) { r in
            n2n_leaky_relu(x + r.lowerBound, y + r.lowerBound, r.count, a)
        }
        case .tanh: Activation.chunked(count) { r in n2n_tanh(x + r.lowerBound, y + r.lowerBound, r.count) }
        case .sigmoid: Activation.chunked(count) { r in n2n_sigmoid(x + r.lowerBound, y + r.lowerBound, r.count) }
        }
    }

    /// `dx[i] = dy[i]·f′(x[i])` from the saved input `x`; `dx` may alias `dy`.
    public func backward(input x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         into dx: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity:
            if UnsafePointer(dx) != dy { dx.update(from: dy, count: count) }
        case .relu: Activation.chunked(count) { r in
            n2n_leaky_relu_backward(x + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count, 0)
        }
        case .leakyReLU(let a): Activation.chunked(count) { r in
            n2n_leaky_relu_backward(x + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count, a)
        }
        case .tanh: Activation.chunked(count) { r in
            n2n_tanh_backward_from_input(x + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count)
        }
        case .sigmoid: Activation.chunked(count) { r in
            n2n_sigmoid_backward_from_input(x + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count)
        }
        }
    }

    /// `dx[i] = dy[i]·f′` from the saved output `y` (see the table); `dx`
    /// may alias `dy` or `y`. Needs `isInvertibleFromOutput`.
    public func backward(output y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         into dx: UnsafeMutablePointer<Float>, count: Int) {
        precondition(isInvertibleFromOutput, "\(self): the output does not determine the derivative; pass the input")
        switch self {
        case .identity:
            if UnsafePointer(dx) != dy { dx.update(from: dy, count: count) }
        case .relu, .leakyReLU:
            // Leaky ReLU with a > 0 keeps the sign, so y ≤ 0 ⇔ x ≤ 0: the input formula applies.
            backward(input: y, dy: dy, into: dx, count: count)
        case .tanh: Activation.chunked(count) { r in
            n2n_tanh_backward(y + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count)
        }
        case .sigmoid: Activation.chunked(count) { r in
            n2n_sigmoid_backward(y + r.lowerBound, dy + r.lowerBound, dx + r.lowerBound, r.count)
        }
        }
    }

    /// Runs `body` on chunks of `0..<count` (in parallel above 32k elements).
    @inline(__always)
    static func chunked(_ count: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachChunk(count: count, minimumChunk: 1 << 15, body)
    }
}
