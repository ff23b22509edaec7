import Foundation
import TensorCore

/// Data with a known answer: z_Θ = A·z_Φ + b + L·ε, z_Φ ~ N(0, I), ε ~ N(0, I),
/// with L lower-triangular with a positive diagonal. The conditional
/// density is Gaussian with entropy D/2·log(2πe) + Σᵢ log Lᵢᵢ nats.
public struct ConditionalGaussian: Sendable {
    public let dimension: Int
    public let conditionDimension: Int
    /// A `[D, Dc]`: the linear map from the condition to the mean.
    public let meanMatrix: Tensor
    /// b `[D]`: the mean's offset.
    public let offset: Tensor
    /// L `[D, D]`: the lower-triangular Cholesky factor of the covariance L·Lᵀ.
    public let choleskyFactor: Tensor

    /// A random problem drawn from `seed`.
    public init(dimension: Int, conditionDimension: Int, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        self.dimension = dimension
        self.conditionDimension = conditionDimension
        meanMatrix = g.normalTensor([dimension, conditionDimension], standardDeviation: 1 / Float(conditionDimension).squareRoot())
        offset = g.normalTensor([dimension])
        var l = Tensor(zeros: [dimension, dimension])
        for i in 0..<dimension {
            for j in 0..<i { l[i, j] = 0.4 * (2 * g.nextUniform() - 1) }
            l[i, i] = 0.2 + 0.8 * g.nextUniform()
        }
        choleskyFactor = l
    }

    /// The conditional entropy in nats per dimension.
    public var entropyPerDimension: Double {
        let D = Double(dimension)
        let logDiagonal = (0..<dimension).reduce(0.0) { $0 + log(Double(choleskyFactor[$1, $1])) }
        return (0.5 * D * log(2 * Double.pi * M_E) + logDiagonal) / D
    }

    /// The conditional mean A·c + b for every row of `condition` `[N, Dc]`.
    public func mean(_ condition: Tensor) -> Tensor {
        var m = matmul(condition, meanMatrix, transposeB: true)
        for r in 0..<m.shape[0] { for j in 0..<dimension { m[r, j] += offset.scalars[j] } }
        return m
    }

    /// N pairs (condition, target).
    public func pairs(_ count: Int, seed: UInt64) -> (condition: Tensor, target: Tensor) {
        var g = SeededGenerator(seed: seed)
        let c = g.normalTensor([count, conditionDimension])
        let noise = g.normalTensor([count, dimension])
        let target = Tensor(shape: [count, dimension], scalars: zip(mean(c).scalars, matmul(noise, choleskyFactor, transposeB: true).scalars).map { $0 + $1 })
        return (c, target)
    }
}
