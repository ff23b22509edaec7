import Layers
import TensorCore

/// The reference's optional activation between ActNorm and the coupling
/// (`InvLeakyRelu` of the official code, `activation: lrelu`):
/// `y = x` for x ≥ 0, `y = α·x` otherwise, with α = 0.9.
///
/// Like the reference, it adds **nothing** to the log-determinant, although
/// the true value is `Σⱼ log α` over the negative inputs. Flows with this
/// activation therefore report the reference's NLL, not an exact density;
/// the gradient is unaffected (that term is piecewise constant). Every
/// published translation model of the reference uses `activation: none`.
public struct InvertibleLeakyReLU: InvertibleLayer, Sendable {
    public static let slope: Float = 0.9
    public let dimension: Int

    public init(dimension: Int) {
        self.dimension = dimension
    }

    /// The output of the last `forward`, whose signs `backward` needs; an
    /// evaluation pass, which keeps nothing, passes one of zero rows.
    public final class Workspace {
        let output: FloatBuffer
        init(count: Int) { output = FloatBuffer(count: count) }
    }

    public func makeWorkspace(batch: Int) -> Workspace { Workspace(count: batch * dimension) }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let count = batch * dimension
        Vector.leakyReLU(x, y, count: count, slope: Self.slope)
        if workspace.output.count >= count { workspace.output.pointer.update(from: y, count: count) }
    }

    public func inverse(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        Vector.leakyReLU(y, x, count: batch * dimension, slope: 1 / Self.slope)
    }

    /// `dx = dy` where the output was positive, `α·dy` elsewhere.
    public func backward(dy: UnsafePointer<Float>, dLogDet: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                         batch: Int, embedding: UnsafePointer<Float>?,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dEmbedding: UnsafeMutablePointer<Float>?, workspace: Workspace) {
        Vector.leakyReLUBackward(y: workspace.output.pointer, dy: dy, dx: dx, count: batch * dimension,
                                 slope: Self.slope)
    }
}
