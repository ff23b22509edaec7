import TensorCore

/// How `Sequential` runs a convolution or linear layer on two shares of the
/// batch at once (see `SequentialWorkspace.forEachShare`).
extension Sequential {
    /// A convolution's backward over the shares of the batch: the first share
    /// accumulates into `gradients`, the second writes its own buffer, which is
    /// then added (so the result does not depend on which share finishes first).
    func backwardInShares(batch: Int, stage: Int, weightCount: Int, channels: Int, weight w: Int, bias b: Int,
                          gradients: UnsafeMutablePointer<Float>, workspace: SequentialWorkspace,
                          _ body: (_ share: Int, _ first: Int, _ n: Int, _ dW: UnsafeMutablePointer<Float>,
                                   _ db: UnsafeMutablePointer<Float>, _ accumulate: Bool) -> Void) {
        let scratch = workspace.shareGradients[stage]!.pointer
        var split = false
        workspace.forEachShare(batch) { share, first, n in
            if share == 0 {
                body(0, first, n, gradients + w, gradients + b, true)
            } else {
                split = true
                body(1, first, n, scratch, scratch + weightCount, false)
            }
        }
        if split {
            Vector.axpy(1, scratch, gradients + w, count: weightCount)
            Vector.axpy(1, scratch + weightCount, gradients + b, count: channels)
        }
    }

    /// A convolution's forward over the shares of the batch.
    func convolutionForward<C: BatchedConvolution>(_ conv: C, stage i: Int, input: UnsafePointer<Float>, batch: Int,
                                                   weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                                   workspace: SequentialWorkspace, into y: UnsafeMutablePointer<Float>) {
        let stage = stages[i]
        workspace.forEachShare(batch) { share, first, n in
            conv.forward(input + first * stage.inputCount, batch: n, height: stage.inputShape[1], width: stage.inputShape[2],
                         weight: weight, bias: bias, epilogue: .identity, workspace: workspace.convolution[share][i],
                         into: y + first * stage.outputCount)
        }
    }

    /// A convolution's backward over the shares of the batch.
    func convolutionBackward<C: BatchedConvolution>(_ conv: C, stage i: Int, input: UnsafePointer<Float>, batch: Int,
                                                    dy: UnsafePointer<Float>, parameters: UnsafePointer<Float>,
                                                    weight w: Int, bias b: Int, gradients: UnsafeMutablePointer<Float>,
                                                    workspace: SequentialWorkspace, dx: UnsafeMutablePointer<Float>?) {
        let stage = stages[i]
        backwardInShares(batch: batch, stage: i, weightCount: conv.weightShape.reduce(1, *), channels: conv.outputChannels,
                         weight: w, bias: b, gradients: gradients, workspace: workspace) { share, first, n, dW, db, accumulate in
            conv.backward(input + first * stage.inputCount, batch: n, height: stage.inputShape[1],
                          width: stage.inputShape[2], weight: parameters + w, dy: dy + first * stage.outputCount,
                          weightGradient: dW, biasGradient: db, accumulateParameters: accumulate,
                          dx: dx.map { $0 + first * stage.inputCount }, workspace: workspace.convolution[share][i])
        }
    }
}

/// What `Sequential` needs of `Conv2d` and `ConvTranspose2d`: the same
/// forward and backward signatures, on a batch of NCHW images.
protocol BatchedConvolution {
    var weightShape: [Int] { get }
    var outputChannels: Int { get }
    func forward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 epilogue: ConvolutionEpilogue, workspace: FloatBuffer?, into y: UnsafeMutablePointer<Float>)
    func backward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                  weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                  weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                  accumulateParameters: Bool, dx: UnsafeMutablePointer<Float>?, workspace: FloatBuffer?)
}

extension Conv2d: BatchedConvolution {}
extension ConvTranspose2d: BatchedConvolution {}
