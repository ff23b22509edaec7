import Foundation
import XCTest
import TestSupport
@testable import Flow
import Layers
import TensorCore

/// Whole-flow oracles: round trips, log-det against the numerical Jacobian,
/// the training loss against `forward`, gradients of the NLL for every
/// parameter and both inputs against central differences, and sampling.
final class ConditionalFlowTests: XCTestCase {
    static func configuration(dimension D: Int, condition Dc: Int, embedding E: Int = 4, hidden H: Int = 32,
                              depth: Int = 2, blocks: Int, batchNorm: Bool = true,
                              activation: FlowActivation = .none, standardizes: Bool = false) -> FlowConfiguration {
        FlowConfiguration(dimension: D, conditionDimension: Dc, embeddingDimension: E, hiddenDimension: H,
                          hiddenDepth: depth, blockCount: blocks, conditioningHiddenDimension: 8,
                          conditioningDepth: 1, conditionerUsesBatchNorm: batchNorm, activation: activation,
                          standardizesCondition: standardizes)
    }

    /// A flow whose ActNorm was initialised from one training batch (which
    /// also moved the running statistics), with every parameter and buffer
    /// then perturbed so that no layer is near the identity.
    static func preparedFlow(_ c: FlowConfiguration, seed: UInt64) -> ConditionalFlow {
        let flow = ConditionalFlow(configuration: c, seed: seed)
        var g = SeededGenerator(seed: seed &+ 1000)
        let B = 16
        var x = g.normalTensor([B, c.dimension]).scalars
        for i in x.indices { x[i] = 2 * x[i] + Float(i % c.dimension) - 1 }
        let condition = c.isConditional ? g.normalTensor([B, c.conditionDimension]).scalars : nil
        let w = flow.makeTrainingWorkspace(batch: B)
        withOptional(condition) { cp in
            _ = flow.lossAndGradient(x: x, condition: cp, gradients: FloatBuffer(count: flow.parameters.count),
                                     workspace: w)
        }
        XCTAssertTrue(flow.isActNormInitialized)
        for entry in flow.layout.entries {
            let amplitude: Float = entry.name.hasSuffix("log_scale") || entry.name.hasSuffix("loc") ? 0.3 : 0.1
            for i in entry.offset..<(entry.offset + entry.count) {
                flow.parameters[i] += amplitude * (2 * g.nextUniform() - 1)
            }
        }
        for entry in flow.bufferLayout.entries {
            for i in entry.offset..<(entry.offset + entry.count) {
                if entry.name.hasSuffix("running_var") || entry.name.hasSuffix("condition_std") {
                    flow.buffers[i] *= 0.5 + g.nextUniform()
                } else {
                    flow.buffers[i] += 0.2 * (2 * g.nextUniform() - 1)
                }
            }
        }
        return flow
    }

    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        maxAbsDifference(a.scalars, b.scalars) / max(1, b.scalars.map(abs).max() ?? 0)
    }

    // MARK: round trip and log-det

    func checkRoundTrip(_ c: FlowConfiguration, file: StaticString = #filePath, line: UInt = #line) {
        let flow = Self.preparedFlow(c, seed: 7)
        var g = SeededGenerator(seed: 21)
        let N = 16
        let x = g.normalTensor([N, c.dimension])
        let condition = c.isConditional ? g.normalTensor([N, c.conditionDimension]) : nil
        let (v, ldForward) = flow.forward(x, condition: condition)
        XCTAssertTrue(v.isFinite && ldForward.isFinite, file: file, line: line)
        XCTAssertGreaterThan(maxAbsDifference(v.scalars, x.scalars), 0.1, "the flow is near the identity",
                             file: file, line: line)
        let (x2, ldInverse) = flow.inverse(v, condition: condition)
        XCTAssertLessThanOrEqual(Self.relativeError(x2, x), 1e-3, "inverse(forward(x)) ≠ x", file: file, line: line)
        for r in 0..<N {
            let scale = max(1, abs(ldForward.scalars[r]))
            XCTAssertEqual(ldForward.scalars[r] + ldInverse.scalars[r], 0, accuracy: 1e-3 * scale,
                           "forward + inverse log-det ≠ 0", file: file, line: line)
        }
        // And from the Gaussian side: forward(inverse(v)) = v.
        let z = g.normalTensor([N, c.dimension])
        let (xz, _) = flow.inverse(z, condition: condition)
        XCTAssertLessThanOrEqual(Self.relativeError(flow.forward(xz, condition: condition).output, z), 1e-3,
                                 "forward(inverse(v)) ≠ v", file: file, line: line)
    }

    func testRoundTripWithCondition() {
        for D in [8, 5, 2] { checkRoundTrip(Self.configuration(dimension: D, condition: 6, blocks: 20)) }
        checkRoundTrip(Self.configuration(dimension: 6, condition: 4, blocks: 6, activation: .lrelu))
    }

    func testRoundTripWithoutCondition() {
        for D in [8, 5, 2] { checkRoundTrip(Self.configuration(dimension: D, condition: 0, blocks: 20)) }
    }

    /// log|det ∂v/∂x| of one row against the Jacobian of `forward` from central differences.
    func testLogDetAgainstNumericalJacobian() {
        for D in [4, 5] {
            let c = Self.configuration(dimension: D, condition: 3, hidden: 16, blocks: 3)
            let flow = Self.preparedFlow(c, seed: UInt64(D))
            var g = SeededGenerator(seed: 5)
            let x = g.normalTensor([1, D]), condition = g.normalTensor([1, 3])
            let logDet = Double(flow.forward(x, condition: condition).logDet.scalars[0])
            var jacobian = [[Double]](repeating: [Double](repeating: 0, count: D), count: D)
            let h: Float = 1e-3
            for j in 0..<D {
                var plus = x, minus = x
                plus.scalars[j] += h
                minus.scalars[j] -= h
                let yp = flow.forward(plus, condition: condition).output.scalars
                let ym = flow.forward(minus, condition: condition).output.scalars
                for i in 0..<D { jacobian[i][j] = Double(yp[i] - ym[i]) / Double(2 * h) }
            }
            let numeric = logAbsDeterminant(jacobian)
            XCTAssertEqual(logDet, numeric, accuracy: 2e-3 * max(1, abs(numeric)), "D = \(D)")
        }
    }

    /// Evaluation is row-wise: chunks of `evaluationChunk` rows and a batch
    /// of one give the same result as the whole batch.
    func testEvaluationDoesNotDependOnTheBatch() {
        let c = Self.configuration(dimension: 5, condition: 3, hidden: 16, blocks: 4)
        let flow = Self.preparedFlow(c, seed: 3)
        var g = SeededGenerator(seed: 8)
        let N = ConditionalFlow.evaluationChunk + 44
        let x = g.normalTensor([N, 5]), condition = g.normalTensor([N, 3])
        let (v, logDet) = flow.forward(x, condition: condition)
        for range in [0..<1, 250..<260, (N - 3)..<N] {
            let (part, partLogDet) = flow.forward(x.rows(range), condition: condition.rows(range))
            XCTAssertLessThanOrEqual(Self.relativeError(part, v.rows(range)), 1e-5)
            XCTAssertLessThanOrEqual(maxAbsDifference(partLogDet.scalars, logDet.rows(range).scalars), 1e-4)
        }
        let e = flow.embed(condition)
        XCTAssertLessThanOrEqual(maxAbsDifference(flow.embed(condition.rows((N - 1)..<N)).scalars,
                                                  e.rows((N - 1)..<N).scalars), 1e-5)
    }

    // MARK: the training loss

    /// lossAndGradient's loss = mean(½‖v‖² − logdet) from `forward`, and
    /// nats/dim = (loss + D/2·log 2π)/D = mean NLL / D. Only comparable
    /// where training and evaluation agree: no BatchNorm in the embedder.
    func testLossMatchesForward() {
        for (Dc, batchNorm) in [(0, true), (3, false)] {
            let c = Self.configuration(dimension: 5, condition: Dc, hidden: 16, blocks: 4, batchNorm: batchNorm)
            let flow = Self.preparedFlow(c, seed: 11)
            var g = SeededGenerator(seed: 12)
            let B = 8, D = 5
            let x = g.normalTensor([B, D])
            let condition = Dc > 0 ? g.normalTensor([B, Dc]) : nil
            let w = flow.makeTrainingWorkspace(batch: B)
            let loss = withOptional(condition?.scalars) { cp in
                flow.lossAndGradient(x: x.scalars, condition: cp, gradients: FloatBuffer(count: flow.parameters.count),
                                     workspace: w, updateStatistics: false)
            }
            let (v, logDet) = flow.forward(x, condition: condition)
            var expected = 0.0
            for r in 0..<B {
                let squares = (0..<D).reduce(0.0) { $0 + Double(v[r, $1]) * Double(v[r, $1]) }
                expected += 0.5 * squares - Double(logDet.scalars[r])
            }
            expected /= Double(B)
            let what = "Dc = \(Dc)"
            XCTAssertEqual(Double(loss.loss), expected, accuracy: 1e-5 * max(1, abs(expected)), what)
            XCTAssertLessThanOrEqual(maxAbsDifference(w.output.array(), v.scalars), 1e-5, what)
            let constant = 0.5 * Double(D) * log(2 * Double.pi)
            XCTAssertEqual(Double(loss.natsPerDimension), (expected + constant) / Double(D), accuracy: 1e-5, what)
            XCTAssertEqual(flow.natsPerDimension(loss: expected), (expected + constant) / Double(D), accuracy: 1e-12)
            let nll = flow.negativeLogLikelihood(x, condition: condition).scalars
            XCTAssertEqual(nll.reduce(0) { $0 + Double($1) } / Double(B), expected + constant,
                           accuracy: 1e-5 * max(1, abs(expected)), what)
        }
    }

    /// The training pass does not change the parameters; it moves the
    /// running statistics only when asked, and initialises ActNorm only once.
    func testTrainingPassSideEffects() {
        let c = Self.configuration(dimension: 4, condition: 3, hidden: 8, blocks: 2)
        let flow = Self.preparedFlow(c, seed: 13)
        let parameters = flow.parameters.array(), buffers = flow.buffers.array()
        var g = SeededGenerator(seed: 14)
        let x = g.normalTensor([6, 4]).scalars.map { 10 * $0 + 5 }, condition = g.normalTensor([6, 3]).scalars
        let w = flow.makeTrainingWorkspace(batch: 6)
        let gradients = FloatBuffer(count: flow.parameters.count)
        flow.lossAndGradient(x: x, condition: condition, gradients: gradients, workspace: w, updateStatistics: false)
        XCTAssertEqual(flow.parameters.array(), parameters)
        XCTAssertEqual(flow.buffers.array(), buffers)
        flow.lossAndGradient(x: x, condition: condition, gradients: gradients, workspace: w, updateStatistics: true)
        XCTAssertEqual(flow.parameters.array(), parameters)
        XCTAssertNotEqual(flow.buffers.array(), buffers)
    }

    /// A training step with the optimiser fused into backward
    /// (`lossAndGradient(applying:)`) leaves the same parameters, moments
    /// and buffers, bit for bit, as `lossAndGradient` followed by
    /// `Adam.update`, over several steps, with and without a condition, on
    /// one thread and on two (where the couplings' two nets run concurrently).
    func testFusedOptimiserStepEqualsSeparateUpdate() {
        for (Dc, threads) in [(3, 1), (3, 2), (0, 2)] {
            let saved = Parallel.threadCount
            ComputeThreads.set(threads)
            defer { ComputeThreads.set(saved) }
            let c = Self.configuration(dimension: 5, condition: Dc, hidden: 16, blocks: 3)
            let separate = ConditionalFlow(configuration: c, seed: 21), fused = separate.copy()
            let adamSeparate = Adam(parameterCount: separate.parameters.count)
            let adamFused = Adam(parameterCount: fused.parameters.count)
            let B = 8
            let w1 = separate.makeTrainingWorkspace(batch: B), w2 = fused.makeTrainingWorkspace(batch: B)
            let g1 = FloatBuffer(count: separate.parameters.count), g2 = FloatBuffer(count: fused.parameters.count)
            var g = SeededGenerator(seed: 22)
            for _ in 0..<4 {
                let x = g.normalTensor([B, 5]).scalars
                let condition = Dc > 0 ? g.normalTensor([B, Dc]).scalars : nil
                let (l1, l2, norm1, norm2) = withOptional(condition) { cp -> (FlowLoss, FlowLoss, Double, Double) in
                    let l1 = separate.lossAndGradient(x: x, condition: cp, gradients: g1, workspace: w1)
                    let norm1 = adamSeparate.update(parameters: separate.parameters, gradients: g1, learningRate: 1e-3)
                    let step = adamFused.beginStep(parameters: fused.parameters, gradients: g2, learningRate: 1e-3)
                    let l2 = fused.lossAndGradient(x: x, condition: cp, gradients: g2, workspace: w2, applying: step)
                    return (l1, l2, norm1, step.squaredGradientSum)
                }
                XCTAssertEqual(l1, l2)
                XCTAssertEqual(norm2, norm1, accuracy: 1e-5 * norm1)   // float partial sums per block
                XCTAssertNotEqual(norm1, 0)
            }
            XCTAssertEqual(fused.parameters.array(), separate.parameters.array(), "Dc \(Dc), \(threads) threads")
            XCTAssertEqual(fused.buffers.array(), separate.buffers.array())
            XCTAssertEqual(adamFused.maxSecondMoment.array(), adamSeparate.maxSecondMoment.array())
            XCTAssertEqual(adamFused.firstMoment.array(), adamSeparate.firstMoment.array())
        }
    }

    /// The fused step covers the whole buffer exactly once: the couplings'
    /// Linear spans and the ranges outside them tile 0..<count.
    func testFusedStepRangesTileTheParameterBuffer() {
        let flow = ConditionalFlow(configuration: Self.configuration(dimension: 7, condition: 3, blocks: 2), seed: 3)
        let inside = flow.blocks.flatMap { $0.coupling.halves.flatMap { $0.allLinear.map(\.parameterRange) } }
        var covered = [Int](repeating: 0, count: flow.parameters.count)
        for range in inside + flow.rangesOutsideCouplings { for i in range { covered[i] += 1 } }
        XCTAssertEqual(Set(covered), [1])
        for entry in flow.layout.entries where !entry.name.contains(".coupling.") {
            XCTAssertTrue(flow.rangesOutsideCouplings.contains { $0.contains(entry.offset) }, entry.name)
        }
    }

    // MARK: gradients of the NLL

    /// The on/off pattern of every LeakyReLU of the last training pass
    /// (coupling subnets and embedder): differences are only meaningful
    /// where it does not change.
    static func activationPattern(_ w: FlowTrainingWorkspace) -> [Bool] {
        var bits: [Bool] = []
        for coupling in w.couplings {
            for half in coupling.halves {
                for buffer in half.activations.flatMap({ $0 }) { bits += buffer.array().map { $0 > 0 } }
            }
        }
        for buffer in w.embedder?.activations ?? [] { bits += buffer.array().map { $0 > 0 } }
        for workspace in w.activations { bits += workspace?.output.array().map { $0 > 0 } ?? [] }
        return bits
    }

    /// ∂loss/∂θ for every parameter entry, ∂loss/∂x and ∂loss/∂c against
    /// central differences of the loss (batch statistics, frozen running
    /// statistics), on a seeded sample of coordinates of each.
    func testGradientsAgainstFiniteDifferences() {
        for activation in FlowActivation.allCases { checkGradients(activation: activation) }
        checkGradients(activation: .none, standardizes: true)
    }

    func checkGradients(activation: FlowActivation, standardizes: Bool = false) {
        let c = Self.configuration(dimension: 5, condition: 3, embedding: 4, hidden: 10, depth: 2, blocks: 3,
                                   activation: activation, standardizes: standardizes)
        let flow = Self.preparedFlow(c, seed: 17)
        var g = SeededGenerator(seed: 18)
        let B = 6, D = 5
        let x = g.normalTensor([B, D]).scalars, condition = g.normalTensor([B, 3]).scalars
        let w = flow.makeTrainingWorkspace(batch: B)
        let buffers = flow.buffers.array()

        // Gradients are written, whatever the buffer held.
        let gradients = FloatBuffer([Float](repeating: 1e3, count: flow.parameters.count))
        let loss = flow.lossAndGradient(x: x, condition: condition, gradients: gradients, workspace: w,
                                        updateStatistics: false)
        let dx = w.inputGradient.array(), dc = w.conditionGradient.array()
        for entry in flow.layout.entries {
            XCTAssertTrue(gradients.array(entry.offset..<(entry.offset + entry.count)).allSatisfy { $0.isFinite && abs($0) < 1e3 },
                          "gradient of \(entry.name) not written")
        }

        let scratch = FloatBuffer(count: flow.parameters.count)
        func objective(_ x: [Float], _ condition: [Float]) -> (value: Double, pattern: [Bool]) {
            flow.lossAndGradient(x: x, condition: condition, gradients: scratch, workspace: w, updateStatistics: false)
            var total = 0.0
            for r in 0..<B {
                total += 0.5 * Vector.sumOfSquares(w.output.pointer + r * D, count: D) - Double(w.logDet[r])
            }
            return (total / Double(B), Self.activationPattern(w))
        }
        let base = objective(x, condition)
        XCTAssertEqual(base.value, Double(loss.loss), accuracy: 1e-5 * max(1, abs(base.value)))

        var checkedTotal = 0
        func checkCoordinates(_ analytic: [Float], _ what: String, count: Int = 3,
                              _ evaluate: (Int, Float) -> (value: Double, pattern: [Bool])) {
            var gen = SeededGenerator(seed: UInt64(analytic.count) &+ 5)
            var checked = 0
            for i in gen.permutation(analytic.count) where checked < count {
                for h: Float in [1e-3, 3e-4, 1e-4] {
                    let plus = evaluate(i, h), minus = evaluate(i, -h)
                    if plus.pattern != base.pattern || minus.pattern != base.pattern { continue }
                    assertGradient(Double(analytic[i]), (plus.value - minus.value) / Double(2 * h), "\(what)[\(i)]",
                                   absolute: 1e-6 / Double(h))
                    checked += 1
                    break
                }
            }
            XCTAssertGreaterThanOrEqual(checked, min(2, analytic.count), "\(what): too few smooth coordinates")
            checkedTotal += checked
        }

        checkCoordinates(dx, "∂loss/∂x", count: 8) { i, h in
            var moved = x
            moved[i] += h
            return objective(moved, condition)
        }
        checkCoordinates(dc, "∂loss/∂c", count: 8) { i, h in
            var moved = condition
            moved[i] += h
            return objective(x, moved)
        }
        var kinds = Set<String>()
        for entry in flow.layout.entries {
            kinds.insert(entry.name.replacingOccurrences(of: #"^blocks\.\d+\."#, with: "", options: .regularExpression))
            checkCoordinates(gradients.array(entry.offset..<(entry.offset + entry.count)), entry.name) { i, h in
                let index = entry.offset + i
                let saved = flow.parameters[index]
                flow.parameters[index] = saved + h
                defer { flow.parameters[index] = saved }
                return objective(x, condition)
            }
        }
        // Every kind is there: embedder Linear and BatchNorm, ActNorm, s/t layers of both halves.
        for kind in ["embedder.layers.0.weight", "embedder.layers.1.weight", "embedder.layers.1.bias",
                     "embedder.layers.4.weight", "embedder.layers.6.bias", "actnorm.loc", "actnorm.log_scale",
                     "coupling.s0.layers.0.weight", "coupling.t0.layers.0.bias", "coupling.s1.layers.2.weight",
                     "coupling.t1.layers.4.bias", "coupling.s1.layers.6.weight", "coupling.t0.layers.6.bias"] {
            XCTAssertTrue(kinds.contains(kind), "no parameter \(kind)")
        }
        XCTAssertGreaterThan(checkedTotal, 2 * flow.layout.entries.count)
        XCTAssertEqual(flow.buffers.array(), buffers, "running statistics moved with updateStatistics: false")
    }

    // MARK: sampling and the embedding

    func testSample() {
        let c = Self.configuration(dimension: 5, condition: 3, hidden: 16, blocks: 4)
        let flow = Self.preparedFlow(c, seed: 19)
        var g = SeededGenerator(seed: 20)
        let condition = g.normalTensor([3, 3])
        let K = 4
        var a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 1)
        let first = flow.sample(condition: condition, count: K, temperature: 0.8, using: &a)
        let second = flow.sample(condition: condition, count: K, temperature: 0.8, using: &b)
        XCTAssertEqual(first.shape, [3 * K, 5])
        XCTAssertEqual(first.scalars, second.scalars, "same seed, different samples")
        XCTAssertEqual(a, b)
        XCTAssertTrue(first.isFinite)
        // Condition-major: x[i·K + k] = τ(T·z | c_i) for the generator's z.
        var c2 = SeededGenerator(seed: 1)
        let z = c2.normalTensor([3 * K, 5], standardDeviation: 0.8)
        let repeated = condition.gatherRows((0..<3).flatMap { Array(repeating: $0, count: K) })
        XCTAssertEqual(flow.inverse(z, condition: repeated).output.scalars, first.scalars)
        var other = SeededGenerator(seed: 2)
        XCTAssertNotEqual(flow.sample(condition: condition, count: K, temperature: 0.8, using: &other).scalars,
                          first.scalars)

        // Temperature 0: τ(0 | c_i), K times.
        var zero = SeededGenerator(seed: 3)
        let modes = flow.sample(condition: condition, count: K, temperature: 0, using: &zero)
        let expected = flow.inverse(Tensor(zeros: [3, 5]), condition: condition).output
        for i in 0..<3 {
            for k in 0..<K {
                XCTAssertLessThanOrEqual(maxAbsDifference(modes.rows((i * K + k)..<(i * K + k + 1)).scalars,
                                                          expected.rows(i..<(i + 1)).scalars), 1e-5)
            }
        }
        XCTAssertGreaterThan(maxAbsDifference(expected.rows(0..<1).scalars, expected.rows(1..<2).scalars), 1e-3)

        // Unconditional: [K, D].
        let unconditional = Self.preparedFlow(Self.configuration(dimension: 5, condition: 0, hidden: 16, blocks: 2),
                                              seed: 4)
        var u = SeededGenerator(seed: 5)
        XCTAssertEqual(unconditional.sample(condition: nil, count: 7, using: &u).shape, [7, 5])
    }

    /// embed() in evaluation mode is Linear → BatchNorm(running stats) →
    /// LeakyReLU → Linear → BatchNorm → LeakyReLU → Linear, computed by hand.
    func testEmbedUsesRunningStatistics() {
        checkEmbedding(standardizes: false)
    }

    /// With `standardizesCondition` the embedder first maps c to (c − mean) / std.
    func testEmbedStandardizesTheCondition() {
        checkEmbedding(standardizes: true)
    }

    func checkEmbedding(standardizes: Bool) {
        let c = Self.configuration(dimension: 4, condition: 3, embedding: 4, hidden: 8, blocks: 1, standardizes: standardizes)
        let flow = Self.preparedFlow(c, seed: 23)
        XCTAssertEqual(flow.bufferLayout.entry("embedder.condition_std") != nil, standardizes)
        var g = SeededGenerator(seed: 24)
        let condition = g.normalTensor([3, 3])
        let e = flow.embed(condition)
        XCTAssertEqual(e.shape, [3, 4])
        func values(_ name: String, in layout: ParameterLayout, _ buffer: FloatBuffer) -> [Double] {
            let entry = layout.entry(name)!
            return buffer.array(entry.offset..<(entry.offset + entry.count)).map(Double.init)
        }
        func p(_ name: String) -> [Double] { values(name, in: flow.layout, flow.parameters) }
        func r(_ name: String) -> [Double] { values(name, in: flow.bufferLayout, flow.buffers) }
        func linear(_ x: [Double], _ name: String) -> [Double] {
            let w = p("\(name).weight"), b = p("\(name).bias")
            return b.indices.map { o in b[o] + x.indices.reduce(0) { $0 + w[o * x.count + $1] * x[$1] } }
        }
        func batchNorm(_ x: [Double], _ name: String) -> [Double] {
            let gamma = p("\(name).weight"), beta = p("\(name).bias")
            let mean = r("\(name).running_mean"), variance = r("\(name).running_var")
            return x.indices.map { gamma[$0] * (x[$0] - mean[$0]) / (variance[$0] + 1e-5).squareRoot() + beta[$0] }
        }
        func leaky(_ x: [Double]) -> [Double] { x.map { $0 > 0 ? $0 : 0.01 * $0 } }
        let row = 1
        var h = (0..<3).map { Double(condition[row, $0]) }
        if standardizes {
            let mean = r("embedder.condition_mean"), std = r("embedder.condition_std")
            XCTAssertFalse(mean.allSatisfy { $0 == 0 } || std.allSatisfy { $0 == 1 }, "the prepared flow should not standardise as the identity")
            h = h.indices.map { (h[$0] - mean[$0]) / std[$0] }
        }
        h = leaky(batchNorm(linear(h, "embedder.layers.0"), "embedder.layers.1"))
        h = leaky(batchNorm(linear(h, "embedder.layers.3"), "embedder.layers.4"))
        h = linear(h, "embedder.layers.6")
        for j in 0..<4 { XCTAssertEqual(Double(e[row, j]), h[j], accuracy: 1e-5 * max(1, abs(h[j]))) }
    }

    func testCopyIsIndependent() {
        let c = Self.configuration(dimension: 4, condition: 3, hidden: 8, blocks: 2)
        let flow = Self.preparedFlow(c, seed: 29)
        let copy = flow.copy()
        var g = SeededGenerator(seed: 30)
        let x = g.normalTensor([5, 4]), condition = g.normalTensor([5, 3])
        let before = flow.forward(x, condition: condition)
        XCTAssertEqual(copy.forward(x, condition: condition).output, before.output)
        XCTAssertTrue(copy.isActNormInitialized)
        copy.parameters[flow.layout.entry("blocks.0.actnorm.loc")!.offset] += 1
        copy.buffers[0] += 1
        XCTAssertEqual(flow.forward(x, condition: condition).output, before.output)
        XCTAssertNotEqual(copy.forward(x, condition: condition).output, before.output)
    }

    /// `setStandardization` takes each dimension's mean and (population)
    /// deviation; a constant dimension keeps deviation 1; a fresh flow's
    /// standardisation is the identity.
    func testStandardizationStatistics() {
        let c = Self.configuration(dimension: 2, condition: 3, hidden: 8, blocks: 1, standardizes: true)
        let flow = ConditionalFlow(configuration: c, seed: 3)
        func buffer(_ name: String) -> [Float] {
            let entry = flow.bufferLayout.entry(name)!
            return flow.buffers.array(entry.offset..<(entry.offset + entry.count))
        }
        XCTAssertEqual(buffer("embedder.condition_mean"), [0, 0, 0])
        XCTAssertEqual(buffer("embedder.condition_std"), [1, 1, 1])
        // Columns: 1, 3 (mean 2, deviation 1); 0.01 × 1…4; the constant 7.
        let rows: [Float] = [1, 0.01, 7,  3, 0.02, 7,  1, 0.03, 7,  3, 0.04, 7]
        rows.withUnsafeBufferPointer { flow.embedder!.setStandardization(from: $0.baseAddress!, count: 4, buffers: flow.buffers.pointer) }
        let mean = buffer("embedder.condition_mean"), std = buffer("embedder.condition_std")
        XCTAssertEqual(mean[0], 2, accuracy: 1e-6)
        XCTAssertEqual(mean[1], 0.025, accuracy: 1e-7)
        XCTAssertEqual(mean[2], 7, accuracy: 1e-6)
        XCTAssertEqual(std[0], 1, accuracy: 1e-6)
        XCTAssertEqual(std[1], Float((1.25 as Double).squareRoot() * 0.01), accuracy: 1e-7)
        XCTAssertEqual(std[2], 1)
        // A checkpoint written before the key existed reads as not standardising.
        let json = String(decoding: try! JSONEncoder().encode(c), as: UTF8.self)
        XCTAssertTrue(json.contains("standardize_condition"))
        let old = json.replacingOccurrences(of: #","standardize_condition":true"#, with: "")
            .replacingOccurrences(of: #""standardize_condition":true,"#, with: "")
        XCTAssertFalse(try! JSONDecoder().decode(FlowConfiguration.self, from: Data(old.utf8)).standardizesCondition)
    }

    /// `differences` names every key a checkpoint stores (so a key added to
    /// the configuration must be added there too) and nothing for equal ones.
    func testDifferencesNameEveryStoredKey() throws {
        let a = FlowConfiguration(dimension: 2, conditionDimension: 3)
        let b = FlowConfiguration(dimension: 4, conditionDimension: 5, embeddingDimension: 6, hiddenDimension: 7,
                                  hiddenDepth: 1, blockCount: 3, conditioningHiddenDimension: 9, conditioningDepth: 1,
                                  conditionerUsesBatchNorm: false, leakySlope: 0.2, activation: .lrelu,
                                  standardizesCondition: true)
        let stored = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(a)) as? [String: Any]).keys
        let named = a.differences(from: b).components(separatedBy: ", ").map { String($0.prefix { $0 != " " }) }
        XCTAssertEqual(Set(named), Set(stored))
        XCTAssertEqual(a.differences(from: a), "")
    }
}
