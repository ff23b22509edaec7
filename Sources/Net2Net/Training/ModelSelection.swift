import Foundation

/// Which checkpoint a trainer keeps as `best`: the step with the best
/// finite validation value so far, lower or higher being better. The flow
/// trainer selects on validation NLL (lower), the image-model trainer on its
/// task's metric (the autoencoder's held-out loss, the classifier's accuracy).
///
/// The record travels in a training state's metadata, under `best_step` and
/// a value key of the trainer's choice, so that a resumed run keeps it.
public struct ModelSelection: Sendable, Equatable {
    public let higherIsBetter: Bool
    /// The best step and its value so far, if any.
    public private(set) var best: Best?

    public struct Best: Sendable, Equatable {
        public let step: Int
        public let value: Double
    }

    public init(higherIsBetter: Bool, best: Best? = nil) {
        self.higherIsBetter = higherIsBetter
        self.best = best
    }

    /// Records `value` validated at `step`; true when it is the new best.
    /// A non-finite value never is, and a tie keeps the earlier step.
    public mutating func offer(_ value: Double, at step: Int) -> Bool {
        guard value.isFinite else { return false }
        if let best, higherIsBetter ? value <= best.value : value >= best.value { return false }
        best = Best(step: step, value: value)
        return true
    }

    static let stepKey = "best_step"

    /// The record as metadata entries (none before the first validation).
    public func metadata(valueKey: String) -> [String: String] {
        guard let best else { return [:] }
        return [ModelSelection.stepKey: String(best.step), valueKey: String(best.value)]
    }

    /// The record a training state's metadata holds (none when it holds none).
    public static func recorded(in metadata: [String: String], valueKey: String, higherIsBetter: Bool) -> ModelSelection {
        guard let step = Int(metadata[stepKey] ?? ""), let value = Double(metadata[valueKey] ?? "") else {
            return ModelSelection(higherIsBetter: higherIsBetter)
        }
        return ModelSelection(higherIsBetter: higherIsBetter, best: Best(step: step, value: value))
    }
}
