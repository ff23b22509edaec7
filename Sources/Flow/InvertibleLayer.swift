import Layers

/// A layer of the conditional INN, mapping data towards the Gaussian.
///
/// All tensors are contiguous `[batch, dimension]`; `embedding` is the
/// condition embedding `[batch, embeddingDimension]` (nil for layers that
/// ignore it, or an unconditional flow). Log-determinants are *accumulated*
/// into `logDet` `[batch]`: `forward` adds log|det ∂y/∂x|, `inverse` adds
/// log|det ∂x/∂y| (the negative), so forward + inverse ≈ 0.
///
/// `forward` leaves in `workspace` what `backward` needs; `backward` takes
/// `dy` and the per-row gradient of the loss with respect to the log-det,
/// writes `dx`, *adds* parameter gradients into `gradients` and, when
/// given, adds the gradient with respect to the embedding into `dEmbedding`.
public protocol InvertibleLayer {
    associatedtype Workspace: AnyObject
    var dimension: Int { get }
    func makeWorkspace(batch: Int) -> Workspace
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                 embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, workspace: Workspace)
    func inverse(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, batch: Int,
                 embedding: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, workspace: Workspace)
    func backward(dy: UnsafePointer<Float>, dLogDet: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                  batch: Int, embedding: UnsafePointer<Float>?,
                  parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  dEmbedding: UnsafeMutablePointer<Float>?, workspace: Workspace)
}

/// Copies a `[rows, columns]` block between strided matrices.
@inline(__always)
func copyMatrix(_ source: UnsafePointer<Float>, ld sourceStride: Int,
                into destination: UnsafeMutablePointer<Float>, ld destinationStride: Int,
                rows: Int, columns: Int) {
    if columns == 0 { return }
    for r in 0..<rows {
        (destination + r * destinationStride).update(from: source + r * sourceStride, count: columns)
    }
}
