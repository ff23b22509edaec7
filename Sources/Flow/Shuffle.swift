import Layers

/// A fixed permutation of the features: `y[:, j] = x[:, permutation[j]]`,
/// log|det| = 0. The permutation is drawn once from the flow's seed and
/// saved in the checkpoint.
public struct Shuffle: InvertibleLayer, Sendable {
    public let dimension: Int
    public let permutation: [Int]

    public init(permutation: [Int]) {
        precondition(Set(permutation) == Set(0..<permutation.count), "not a permutation")
        self.dimension = permutation.count
        self.permutation = permutation
    }

    public final class Workspace {}

    public func makeWorkspace(batch: Int) -> Workspace { Workspace() }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let D = dimension
        permutation.withUnsafeBufferPointer { p in
            for r in 0..<batch {
                let xr = x + r * D, yr = y + r * D
                for j in 0..<D { yr[j] = xr[p[j]] }
            }
        }
    }

    public func inverse(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, batch: Int,
                        embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                        parameters: UnsafePointer<Float>, workspace: Workspace) {
        let D = dimension
        permutation.withUnsafeBufferPointer { p in
            for r in 0..<batch {
                let xr = x + r * D, yr = y + r * D
                for j in 0..<D { xr[p[j]] = yr[j] }
            }
        }
    }

    /// `dx[:, permutation[j]] = dy[:, j]`.
    public func backward(dy: UnsafePointer<Float>, dLogDet: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                         batch: Int, embedding: UnsafePointer<Float>?,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         dEmbedding: UnsafeMutablePointer<Float>?, workspace: Workspace) {
        inverse(dy, into: dx, batch: batch, embedding: nil, logDet: UnsafeMutablePointer(mutating: dLogDet),
                parameters: parameters, workspace: workspace)
    }
}
