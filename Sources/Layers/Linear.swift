import TensorCore

/// A fully connected layer `y = x·Wᵀ + b` on raw buffers.
///
/// Shapes: x `[B, inputDimension]` (row stride `ldx`), W `[outputDimension,
/// inputDimension]` as PyTorch names it, b `[outputDimension]`,
/// y `[B, outputDimension]` (row stride `ldy`). The struct only records
/// where W and b live in a flat parameter buffer. With `storedTransposed`,
/// memory holds Wᵀ `[inputDimension, outputDimension]`: the forward GEMM then
/// reads it untransposed, which packs faster when the weights stream from
/// memory at small batch sizes (sampling).
public struct Linear: Sendable, Equatable {
    public let inputDimension: Int
    public let outputDimension: Int
    /// Offset of W in the parameter buffer.
    public let weightOffset: Int
    /// Offset of b in the parameter buffer.
    public let biasOffset: Int
    /// Whether memory holds Wᵀ `[in, out]` instead of W `[out, in]`.
    public let storedTransposed: Bool

    public init(inputDimension: Int, outputDimension: Int, weightOffset: Int, biasOffset: Int,
                storedTransposed: Bool = false) {
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.weightOffset = weightOffset
        self.biasOffset = biasOffset
        self.storedTransposed = storedTransposed
    }

    /// Registers `name.weight` and `name.bias` in `layout`.
    public init(_ name: String, inputDimension: Int, outputDimension: Int, storedTransposed: Bool = false,
                layout: inout ParameterLayout) {
        let w = layout.add("\(name).weight", shape: [outputDimension, inputDimension], storedTransposed: storedTransposed)
        let b = layout.add("\(name).bias", shape: [outputDimension])
        self.init(inputDimension: inputDimension, outputDimension: outputDimension, weightOffset: w, biasOffset: b,
                  storedTransposed: storedTransposed)
    }

    /// The span of the parameter buffer that holds W and b (and any
    /// alignment padding between them).
    public var parameterRange: Range<Int> {
        let weightEnd = weightOffset + inputDimension * outputDimension, biasEnd = biasOffset + outputDimension
        return min(weightOffset, biasOffset)..<max(weightEnd, biasEnd)
    }

    /// PyTorch's default initialisation: W, b ~ U(−1/√in, 1/√in).
    public func initialize(_ parameters: UnsafeMutablePointer<Float>, using generator: inout SeededGenerator) {
        let bound = 1 / Float(inputDimension).squareRoot()
        for i in 0..<(inputDimension * outputDimension) {
            parameters[weightOffset + i] = (2 * generator.nextUniform() - 1) * bound
        }
        for i in 0..<outputDimension {
            parameters[biasOffset + i] = (2 * generator.nextUniform() - 1) * bound
        }
    }

    /// `y = x·Wᵀ + b`.
    @inline(__always)
    public func forward(_ x: UnsafePointer<Float>, ldx: Int, batch: Int,
                        parameters: UnsafePointer<Float>,
                        into y: UnsafeMutablePointer<Float>, ldy: Int) {
        Linear.affine(x, ldx: ldx, batch: batch,
                      weight: parameters + weightOffset, bias: parameters + biasOffset,
                      inputDimension: inputDimension, outputDimension: outputDimension,
                      storedTransposed: storedTransposed, into: y, ldy: ldy)
    }

    /// `y = x·Wᵀ + b` for an explicit W (`[out, in]`, or `[in, out]` when
    /// `storedTransposed`) and b `[out]`: b is broadcast into y first, then
    /// one GEMM accumulates onto it.
    @inline(__always)
    public static func affine(_ x: UnsafePointer<Float>, ldx: Int, batch: Int,
                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                              inputDimension: Int, outputDimension: Int, storedTransposed: Bool = false,
                              into y: UnsafeMutablePointer<Float>, ldy: Int) {
        for r in 0..<batch { (y + r * ldy).update(from: bias, count: outputDimension) }
        batchGEMM(.none, storedTransposed ? .none : .transposed, m: batch, n: outputDimension, k: inputDimension,
             a: x, lda: ldx, b: weight, ldb: storedTransposed ? outputDimension : inputDimension,
             beta: 1, c: y, ldc: ldy)
    }

    /// Backward of `y = x·Wᵀ + b` given `dy`:
    /// `dW (+)= dyᵀ·x`, `db (+)= Σ_rows dy`, and, when `dx` is given,
    /// `dx (+)= dy·W` (accumulate when `accumulateInput`).
    @inline(__always)
    public func backward(_ x: UnsafePointer<Float>, ldx: Int, batch: Int,
                         dy: UnsafePointer<Float>, lddy: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         accumulateParameters: Bool = false,
                         dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulateInput: Bool = false) {
        Linear.affineBackward(x, ldx: ldx, batch: batch, dy: dy, lddy: lddy,
                              weight: parameters + weightOffset,
                              weightGradient: gradients + weightOffset,
                              biasGradient: gradients + biasOffset,
                              inputDimension: inputDimension, outputDimension: outputDimension,
                              storedTransposed: storedTransposed,
                              accumulateParameters: accumulateParameters,
                              dx: dx, lddx: lddx, accumulateInput: accumulateInput)
    }

    /// `backward` for an explicit W, dW and db.
    @inline(__always)
    public static func affineBackward(_ x: UnsafePointer<Float>, ldx: Int, batch: Int,
                                      dy: UnsafePointer<Float>, lddy: Int,
                                      weight: UnsafePointer<Float>,
                                      weightGradient: UnsafeMutablePointer<Float>,
                                      biasGradient: UnsafeMutablePointer<Float>,
                                      inputDimension: Int, outputDimension: Int, storedTransposed: Bool = false,
                                      accumulateParameters: Bool,
                                      dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulateInput: Bool) {
        let beta: Float = accumulateParameters ? 1 : 0
        if storedTransposed {
            // dWᵀ = xᵀ·dy  [in, out]
            batchGEMM(.transposed, .none, m: inputDimension, n: outputDimension, k: batch,
                 a: x, lda: ldx, b: dy, ldb: lddy, beta: beta, c: weightGradient, ldc: outputDimension)
        } else {
            // dW = dyᵀ·x  [out, in]
            batchGEMM(.transposed, .none, m: outputDimension, n: inputDimension, k: batch,
                 a: dy, lda: lddy, b: x, ldb: ldx, beta: beta, c: weightGradient, ldc: inputDimension)
        }
        Vector.columnSums(dy, rows: batch, columns: outputDimension, ld: lddy,
                          into: biasGradient, accumulate: accumulateParameters)
        if let dx {
            // dx = dy·W
            batchGEMM(.none, storedTransposed ? .transposed : .none, m: batch, n: inputDimension, k: outputDimension,
                 a: dy, lda: lddy, b: weight, ldb: storedTransposed ? outputDimension : inputDimension,
                 beta: accumulateInput ? 1 : 0, c: dx, ldc: lddx)
        }
    }
}
