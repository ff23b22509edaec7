import TensorCore

/// One layer of a `Sequential` network. Shapes are per sample: images
/// `[C, H, W]`, vectors `[D]`.
public enum SequentialLayer: Sendable, Equatable {
    /// `Conv2d` (groups 1) with symmetric padding.
    case convolution(outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0)
    /// `ConvTranspose2d`.
    case transposedConvolution(outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                               outputPadding: Int = 0)
    /// `Linear` on a vector (flatten images first).
    case linear(outputDimension: Int)
    /// BatchNorm over the channels of an image (`BatchNorm2d`) or the features of a vector (`BatchNorm1d`).
    case batchNorm(epsilon: Float = 1e-5, momentum: Float = 0.1)
    /// `max(x, slope·x)`.
    case leakyReLU(slope: Float)
    case tanh
    /// `[C, H, W]` → `[C·H·W]` (no data movement: NCHW is already flat per sample).
    case flatten
    /// `[C·H·W]` → `[C, H, W]`.
    case unflatten(channels: Int, height: Int, width: Int)
}

/// Whether BatchNorm uses batch statistics (and updates its running ones) or the running ones.
public enum NetworkMode: Sendable, Equatable {
    case training
    case inference
}

/// A feed-forward stack of layers (PyTorch `nn.Sequential`) whose parameters
/// live in a shared flat buffer under PyTorch's names (`prefix.i.weight`,
/// `prefix.i.bias`, `prefix.i.running_mean`, …, `i` the layer's index), so
/// that the same architecture in PyTorch loads the same tensors.
///
/// `forward` keeps every layer's output in a `SequentialWorkspace`;
/// `backward` walks them in reverse, accumulating parameter gradients.
public struct Sequential: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case convolution(Conv2d, weight: Int, bias: Int)
        case transposedConvolution(ConvTranspose2d, weight: Int, bias: Int)
        case linear(Linear)
        case batchNorm(BatchNorm)
        case leakyReLU(Float)
        case tanh
        case reshape
    }

    struct Stage: Sendable, Equatable {
        let kind: Kind
        let inputShape: [Int]
        let outputShape: [Int]
        var inputCount: Int { inputShape.reduce(1, *) }
        var outputCount: Int { outputShape.reduce(1, *) }
    }

    public let name: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    let stages: [Stage]

    /// Builds the stack for samples of `inputShape`, registering parameters
    /// in `parameters` and BatchNorm statistics in `buffers`.
    public init(_ name: String, inputShape: [Int], layers: [SequentialLayer],
                parameters: inout ParameterLayout, buffers: inout ParameterLayout) {
        precondition(inputShape.count == 1 || inputShape.count == 3, "samples are vectors [D] or images [C, H, W]")
        var shape = inputShape
        var stages: [Stage] = []
        for (index, layer) in layers.enumerated() {
            let prefix = "\(name).\(index)"
            let kind: Kind
            var next = shape
            switch layer {
            case let .convolution(out, k, s, p):
                precondition(shape.count == 3, "\(prefix): convolution needs an image input, got \(shape)")
                let conv = Conv2d(inputChannels: shape[0], outputChannels: out, kernelSize: k, stride: s, padding: Padding2d(p))
                let (h, w) = conv.outputSize(height: shape[1], width: shape[2])
                kind = .convolution(conv, weight: parameters.add("\(prefix).weight", shape: conv.weightShape),
                                    bias: parameters.add("\(prefix).bias", shape: [out]))
                next = [out, h, w]
            case let .transposedConvolution(out, k, s, p, op):
                precondition(shape.count == 3, "\(prefix): transposed convolution needs an image input, got \(shape)")
                let conv = ConvTranspose2d(inputChannels: shape[0], outputChannels: out, kernelSize: k, stride: s,
                                           padding: p, outputPadding: op)
                let (h, w) = conv.outputSize(height: shape[1], width: shape[2])
                kind = .transposedConvolution(conv, weight: parameters.add("\(prefix).weight", shape: conv.weightShape),
                                              bias: parameters.add("\(prefix).bias", shape: [out]))
                next = [out, h, w]
            case let .linear(out):
                precondition(shape.count == 1, "\(prefix): linear needs a vector input (flatten first), got \(shape)")
                kind = .linear(Linear(prefix, inputDimension: shape[0], outputDimension: out, layout: &parameters))
                next = [out]
            case let .batchNorm(epsilon, momentum):
                kind = .batchNorm(BatchNorm(prefix, channels: shape[0], epsilon: epsilon, momentum: momentum,
                                            parameters: &parameters, buffers: &buffers))
            case let .leakyReLU(slope):
                precondition(slope > 0, "leaky ReLU backward reads the sign of its output: slope must be > 0")
                kind = .leakyReLU(slope)
            case .tanh:
                kind = .tanh
            case .flatten:
                kind = .reshape
                next = [shape.reduce(1, *)]
            case let .unflatten(c, h, w):
                precondition(shape.reduce(1, *) == c * h * w, "\(prefix): cannot unflatten \(shape) to [\(c), \(h), \(w)]")
                kind = .reshape
                next = [c, h, w]
            }
            stages.append(Stage(kind: kind, inputShape: shape, outputShape: next))
            shape = next
        }
        self.name = name
        self.inputShape = inputShape
        self.outputShape = shape
        self.stages = stages
    }

    /// Elements per input and per output sample.
    public var inputCount: Int { inputShape.reduce(1, *) }
    public var outputCount: Int { outputShape.reduce(1, *) }

    /// PyTorch's default initialisation: weights and biases ~ U(±1/√fan_in)
    /// (fan_in = Cin·k² for convolutions, Cout·k² for transposed ones, as
    /// PyTorch computes it from the weight's second axis); BatchNorm γ = 1, β = 0.
    public func initialize(_ parameters: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>,
                           using generator: inout SeededGenerator) {
        func uniform(_ offset: Int, _ count: Int, bound: Float) {
            for i in 0..<count { parameters[offset + i] = (2 * generator.nextUniform() - 1) * bound }
        }
        for stage in stages {
            switch stage.kind {
            case let .convolution(conv, w, b):
                let bound = 1 / Float(conv.inputChannels * conv.kernelHeight * conv.kernelWidth).squareRoot()
                uniform(w, conv.weightShape.reduce(1, *), bound: bound)
                uniform(b, conv.outputChannels, bound: bound)
            case let .transposedConvolution(conv, w, b):
                let bound = 1 / Float(conv.outputChannels * conv.kernelHeight * conv.kernelWidth).squareRoot()
                uniform(w, conv.weightShape.reduce(1, *), bound: bound)
                uniform(b, conv.outputChannels, bound: bound)
            case let .linear(linear):
                linear.initialize(parameters, using: &generator)
            case let .batchNorm(norm):
                norm.initialize(parameters, buffers: buffers)
            case .leakyReLU, .tanh, .reshape:
                break
            }
        }
    }

    /// A workspace for batches of up to `batch` samples.
    public func makeWorkspace(batch: Int) -> SequentialWorkspace {
        SequentialWorkspace(self, capacity: batch)
    }

    /// Runs the stack on `batch` samples `x` (`[batch] + inputShape`) and
    /// returns a pointer to the output (`[batch] + outputShape`), which lives
    /// in `workspace` until its next use. In training mode BatchNorm uses
    /// batch statistics and updates its running statistics in `buffers`.
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, batch: Int, parameters: UnsafePointer<Float>,
                        buffers: UnsafeMutablePointer<Float>, mode: NetworkMode,
                        workspace: SequentialWorkspace) -> UnsafeMutablePointer<Float> {
        workspace.reserve(batch)
        var input = x
        for (i, stage) in stages.enumerated() {
            let y = workspace.outputs[i]
            let count = batch * stage.outputCount
            switch stage.kind {
            case let .convolution(conv, w, b):
                convolutionForward(conv, stage: i, input: input, batch: batch, weight: parameters + w, bias: parameters + b,
                                   workspace: workspace, into: y)
            case let .transposedConvolution(conv, w, b):
                convolutionForward(conv, stage: i, input: input, batch: batch, weight: parameters + w, bias: parameters + b,
                                   workspace: workspace, into: y)
            case let .linear(linear):
                workspace.forEachShare(batch) { _, first, n in
                    linear.forward(input + first * stage.inputCount, ldx: stage.inputCount, batch: n, parameters: parameters,
                                   into: y + first * stage.outputCount, ldy: stage.outputCount)
                }
            case let .batchNorm(norm):
                let spatial = stage.inputCount / norm.channels
                if mode == .training {
                    norm.forwardTraining(input, batch: batch, spatial: spatial, parameters: parameters, buffers: buffers,
                                         updateRunningStatistics: true, normalized: workspace.normalized[i],
                                         inverseStd: workspace.inverseStd[i], into: y)
                } else {
                    norm.forwardInference(input, batch: batch, spatial: spatial, parameters: parameters,
                                          buffers: buffers, into: y)
                }
            case let .leakyReLU(slope):
                Vector.leakyReLU(input, y, count: count, slope: slope)
            case .tanh:
                Vector.tanh(input, y, count: count)
            case .reshape:
                y.update(from: input, count: count)
            }
            input = UnsafePointer(y)
        }
        return workspace.outputs.last ?? UnsafeMutablePointer(mutating: x)
    }

    /// Inference on `count` samples `x` in chunks of at most `chunk`: for each,
    /// `body(first, n, output, workspace)` gets the chunk's first sample index,
    /// its size and its output (valid during the call; the workspace gives
    /// access to other layers' outputs).
    public func inferInChunks(_ x: UnsafePointer<Float>, count: Int, parameters: UnsafePointer<Float>,
                              buffers: UnsafeMutablePointer<Float>, chunk: Int = 256,
                              _ body: (_ first: Int, _ n: Int, _ output: UnsafePointer<Float>, _ workspace: SequentialWorkspace) -> Void) {
        let workspace = makeWorkspace(batch: min(max(count, 1), chunk))
        var first = 0
        while first < count {
            let n = min(chunk, count - first)
            let y = forward(x + first * inputCount, batch: n, parameters: parameters, buffers: buffers, mode: .inference,
                            workspace: workspace)
            body(first, n, UnsafePointer(y), workspace)
            first += n
        }
    }

    /// The output of layer `index` from the last `forward` (e.g. penultimate features).
    public func output(ofLayer index: Int, in workspace: SequentialWorkspace) -> UnsafePointer<Float> {
        UnsafePointer(workspace.outputs[index])
    }

    /// Elements per sample of layer `index`'s output.
    public func outputCount(ofLayer index: Int) -> Int { stages[index].outputCount }

    /// Backward through the last `forward` of these `batch` samples (same `x`)
    /// given `dy` = ∂L/∂output: accumulates ∂L/∂θ into `gradients` and writes
    /// ∂L/∂x into `dx` when it is not nil. `dy` is not modified.
    public func backward(_ x: UnsafePointer<Float>, batch: Int, dy: UnsafePointer<Float>,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         workspace: SequentialWorkspace, dx: UnsafeMutablePointer<Float>?) {
        var upstream = dy
        var flip = false
        for i in stride(from: stages.count - 1, through: 0, by: -1) {
            let stage = stages[i]
            let input = i == 0 ? x : UnsafePointer(workspace.outputs[i - 1])
            let output = UnsafePointer(workspace.outputs[i])
            let wantsInput = i > 0 || dx != nil
            let target = i == 0 ? dx : (flip ? workspace.gradientA : workspace.gradientB)
            let count = batch * stage.inputCount
            switch stage.kind {
            case let .convolution(conv, w, b):
                convolutionBackward(conv, stage: i, input: input, batch: batch, dy: upstream, parameters: parameters,
                                    weight: w, bias: b, gradients: gradients, workspace: workspace,
                                    dx: wantsInput ? target : nil)
            case let .transposedConvolution(conv, w, b):
                convolutionBackward(conv, stage: i, input: input, batch: batch, dy: upstream, parameters: parameters,
                                    weight: w, bias: b, gradients: gradients, workspace: workspace,
                                    dx: wantsInput ? target : nil)
            case let .linear(linear):
                backwardInShares(batch: batch, stage: i, weightCount: linear.inputDimension * linear.outputDimension,
                                 channels: linear.outputDimension, weight: linear.weightOffset, bias: linear.biasOffset,
                                 gradients: gradients, workspace: workspace) { _, first, n, dW, db, accumulate in
                    Linear.affineBackward(input + first * stage.inputCount, ldx: stage.inputCount, batch: n,
                                          dy: upstream + first * stage.outputCount, lddy: stage.outputCount,
                                          weight: parameters + linear.weightOffset, weightGradient: dW, biasGradient: db,
                                          inputDimension: linear.inputDimension, outputDimension: linear.outputDimension,
                                          storedTransposed: linear.storedTransposed, accumulateParameters: accumulate,
                                          dx: wantsInput ? target.map { $0 + first * stage.inputCount } : nil,
                                          lddx: stage.inputCount, accumulateInput: false)
                }
            case let .batchNorm(norm):
                if let target {
                    norm.backward(dy: upstream, batch: batch, spatial: stage.inputCount / norm.channels,
                                  normalized: workspace.normalized[i], inverseStd: workspace.inverseStd[i],
                                  parameters: parameters, gradients: gradients, dx: target)
                }
            case let .leakyReLU(slope):
                if let target { Vector.leakyReLUBackward(y: output, dy: upstream, dx: target, count: count, slope: slope) }
            case .tanh:
                if let target { Vector.tanhBackward(y: output, dy: upstream, dx: target, count: count) }
            case .reshape:
                target?.update(from: upstream, count: count)
            }
            guard let target else { return }
            upstream = UnsafePointer(target)
            flip.toggle()
        }
    }
}
