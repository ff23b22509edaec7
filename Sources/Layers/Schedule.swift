import Foundation

/// Learning rate as a function of the step: an optional linear warm-up,
/// then constant, cosine or linear decay to `finalFraction · base` at `totalSteps`.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public enum Decay: String, Sendable, Codable, CaseIterable {
        case constant, cosine, linear
    }

    public var base: Float
    public var warmupSteps: Int
    public var decay: Decay
    public var totalSteps: Int
    public var finalFraction: Float

    public init(base: Float, warmupSteps: Int = 0, decay: Decay = .constant,
                totalSteps: Int = 0, finalFraction: Float = 0) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.decay = decay
        self.totalSteps = totalSteps
        self.finalFraction = finalFraction
    }

    /// The learning rate for 0-based `step`.
    public func rate(at step: Int) -> Float {
        var factor: Double = 1
        if warmupSteps > 0 && step < warmupSteps {
            factor = Double(step + 1) / Double(warmupSteps)
        } else if decay != .constant && totalSteps > warmupSteps {
            let progress = min(1, Double(step - warmupSteps) / Double(totalSteps - warmupSteps))
            let f = Double(finalFraction)
            switch decay {
            case .constant: break
            case .cosine: factor = f + (1 - f) * 0.5 * (1 + cos(Double.pi * progress))
            case .linear: factor = 1 - (1 - f) * progress
            }
        }
        return Float(Double(base) * factor)
    }
}

/// The factor that scales a gradient of norm `norm` down to `maxNorm`
/// (1 when already within, or when clipping is off: `maxNorm ≤ 0`).
public func clippingScale(gradientNorm norm: Double, maxNorm: Float) -> Float {
    guard maxNorm > 0, norm > Double(maxNorm) else { return 1 }
    return Float(Double(maxNorm) / (norm + 1e-6))
}
