import Datasets
import Foundation
import Layers
import TensorCore

/// The evaluation classifier: a small CNN over 28×28 gray images (NCHW in
/// [-1, 1]) with one 20-way softmax: classes 0–9 are the Fashion-MNIST
/// classes, 10–19 the digits 0–9. It is used only to measure results
/// (conditional accuracy; FID-F on its 128-d penultimate features).
///
///     conv 3×3 → 28×28×32 → BN → LReLU → conv 4×4/2 → 14×14×32 → BN → LReLU
///     → conv 3×3 → 14×14×64 → BN → LReLU → conv 4×4/2 → 7×7×64 → BN → LReLU
///     → conv 3×3/2 → 4×4×128 → BN → LReLU → flatten → linear 128 → BN → LReLU (features)
///     → linear 20 (logits)
public final class EvaluationClassifier: @unchecked Sendable {
    public static let classCount = 20
    public static let featureDimension = 128
    /// Names of the 20 classes, in index order.
    public static let classNames = ["T-shirt/top", "trouser", "pullover", "dress", "coat",
                                    "sandal", "shirt", "sneaker", "bag", "ankle boot"]
        + (0...9).map { "digit \($0)" }

    public let network: Sequential
    public let layout: ParameterLayout
    public let bufferLayout: ParameterLayout
    public let parameters: FloatBuffer
    public let buffers: FloatBuffer
    /// Index of the layer whose output is the feature vector.
    let featureLayer: Int

    static let slope: Float = 0.1
    static var layers: [SequentialLayer] {
        func block(_ channels: Int, _ kernel: Int, _ stride: Int, _ padding: Int) -> [SequentialLayer] {
            [.convolution(outputChannels: channels, kernelSize: kernel, stride: stride, padding: padding),
             .batchNorm(), .leakyReLU(slope: slope)]
        }
        return block(32, 3, 1, 1) + block(32, 4, 2, 1) + block(64, 3, 1, 1) + block(64, 4, 2, 1) + block(128, 3, 2, 1)
            + [.flatten, .linear(outputDimension: featureDimension), .batchNorm(), .leakyReLU(slope: slope),
               .linear(outputDimension: classCount)]
    }

    public init(seed: UInt64 = 0) {
        var layout = ParameterLayout(), buffers = ParameterLayout()
        network = Sequential("layers", inputShape: [1, 28, 28], layers: EvaluationClassifier.layers,
                             parameters: &layout, buffers: &buffers)
        featureLayer = EvaluationClassifier.layers.count - 2
        self.layout = layout
        bufferLayout = buffers
        parameters = FloatBuffer(count: layout.count)
        self.buffers = FloatBuffer(count: buffers.count)
        var generator = SeededGenerator(seed: seed)
        network.initialize(parameters.pointer, buffers: self.buffers.pointer, using: &generator)
    }

    public var parameterCount: Int { layout.entries.reduce(0) { $0 + $1.count } }

    /// Class probabilities `[N, 20]` and penultimate features `[N, 128]` of images `[N, 1, 28, 28]`.
    public func evaluate(_ images: Tensor) throws -> (probabilities: Tensor, features: Tensor) {
        guard images.rank == 4, Array(images.shape.dropFirst()) == [1, 28, 28] else {
            throw ExpertError.badInput("the classifier takes images of shape [N, 1, 28, 28], got \(images.shape)")
        }
        guard images.isFinite else { throw ExpertError.badInput("the images contain NaN or infinite values") }
        let N = images.shape[0], K = EvaluationClassifier.classCount, F = EvaluationClassifier.featureDimension
        var probabilities = Tensor(zeros: [N, K]), features = Tensor(zeros: [N, F])
        images.scalars.withUnsafeBufferPointer { x in
            network.inferInChunks(x.baseAddress!, count: N, parameters: parameters.pointer, buffers: buffers.pointer) { first, n, logits, workspace in
                let f = network.output(ofLayer: featureLayer, in: workspace)
                for r in 0..<n {
                    EvaluationClassifier.softmax(logits + r * K, count: K) { probabilities.scalars[(first + r) * K + $0] = $1 }
                    for j in 0..<F { features.scalars[(first + r) * F + j] = f[r * F + j] }
                }
            }
        }
        return (probabilities, features)
    }

    /// The most probable class of each image.
    public func predict(_ images: Tensor) throws -> [Int] {
        EvaluationClassifier.predictions(try evaluate(images).probabilities)
    }

    /// The most probable class of each row of `probabilities` `[N, K]`.
    public static func predictions(_ probabilities: Tensor) -> [Int] {
        let K = probabilities.shape[1]
        return (0..<probabilities.shape[0]).map { r in
            (0..<K).max { probabilities.scalars[r * K + $0] < probabilities.scalars[r * K + $1] }!
        }
    }

    @inline(__always)
    static func softmax(_ logits: UnsafePointer<Float>, count: Int, _ write: (Int, Float) -> Void) {
        var top = logits[0]
        for k in 1..<count { top = max(top, logits[k]) }
        var total: Double = 0
        for k in 0..<count { total += Foundation.exp(Double(logits[k] - top)) }
        for k in 0..<count { write(k, Float(Foundation.exp(Double(logits[k] - top)) / total)) }
    }

    // MARK: training

    public func makeTrainingWorkspace(batch: Int) -> ClassifierTrainingWorkspace {
        ClassifierTrainingWorkspace(network.makeWorkspace(batch: batch), batch: batch)
    }

    /// Mean softmax cross-entropy of `batch` images `x` with `labels`
    /// (training mode), its gradient written into `gradients`, and the
    /// number of correct top-1 predictions.
    public func lossAndGradient(_ x: UnsafePointer<Float>, labels: [Int], gradients: FloatBuffer,
                                workspace: ClassifierTrainingWorkspace) -> (loss: Double, correct: Int) {
        // Every layer splits its batch over the cores itself (single-threaded GEMMs).
        ComputeThreads.withSingleThreadedBLAS {
            let B = labels.count, K = EvaluationClassifier.classCount
            precondition(B > 1 && B <= workspace.batch, "batch \(B) must be in 2...\(workspace.batch)")
            gradients.zero()
            let logits = network.forward(x, batch: B, parameters: parameters.pointer, buffers: buffers.pointer,
                                         mode: .training, workspace: workspace.network)
            let dLogits = workspace.logitGradient.pointer
            var loss = 0.0, correct = 0
            for r in 0..<B {
                let label = labels[r]
                precondition(label >= 0 && label < K, "label \(label) outside 0..<\(K)")
                var best = 0
                EvaluationClassifier.softmax(logits + r * K, count: K) { k, p in
                    dLogits[r * K + k] = (p - (k == label ? 1 : 0)) / Float(B)
                    if k == label { loss -= Foundation.log(max(Double(p), 1e-30)) }
                }
                for k in 1..<K where logits[r * K + k] > logits[r * K + best] { best = k }
                if best == label { correct += 1 }
            }
            network.backward(x, batch: B, dy: dLogits, parameters: parameters.pointer, gradients: gradients.pointer,
                             workspace: workspace.network, dx: nil)
            return (loss / Double(B), correct)
        }
    }
}

/// Activations of one classifier training step.
public final class ClassifierTrainingWorkspace: @unchecked Sendable {
    public let batch: Int
    let network: SequentialWorkspace
    let logitGradient: FloatBuffer

    init(_ network: SequentialWorkspace, batch: Int) {
        self.batch = batch
        self.network = network
        logitGradient = FloatBuffer(count: batch * EvaluationClassifier.classCount)
    }
}

extension EvaluationClassifier {
    /// The classifier's 20-class labels of a data set: fashion classes 0–9, digits 10–19.
    public static func labels(of data: ImageDataset) -> [Int] {
        zip(data.classLabels, data.domains).map { label, domain in domain == .digit ? 10 + label : label }
    }
}
