import Flow
import Foundation
import TensorCore

/// Sampling and translation with a trained flow τ: z_Θ = τ(v | z_Φ).
public enum Translation {
    /// Float32 values one sample holds at once: the noise and the output
    /// (2·D), its copy of the condition (Dc), the condition's embedding (E)
    /// and the embedder's hidden activations (about 2·Hc).
    public static func valuesPerSample(_ flow: ConditionalFlow) -> Int {
        let c = flow.configuration
        return 2 * c.dimension + (c.isConditional ? c.conditionDimension + c.embeddingDimension + 2 * c.conditioningHiddenDimension : 0)
    }

    /// K samples z_Θ ~ p(z_Θ | c) per condition row: `[N·K, D]`, condition-major.
    public static func sample(flow: ConditionalFlow, condition: Tensor?, count: Int, temperature: Float = 1,
                              seed: UInt64) throws -> Tensor {
        guard temperature >= 0, temperature.isFinite else {
            throw Net2NetError.configuration("temperature must be a finite number ≥ 0")
        }
        let rows = try conditionRows(flow: flow, condition: condition, count: count)
        try SizeLimit.check(count: count, valuesPerItem: rows * valuesPerSample(flow), parameter: "count")
        var generator = SeededGenerator(seed: seed)
        return flow.sample(condition: flow.configuration.isConditional ? condition : nil, count: count,
                           temperature: temperature, using: &generator)
    }

    /// The condition rows N that K = `count` samples each are drawn for
    /// (1 for an unconditional flow), after checking `count` and the condition.
    private static func conditionRows(flow: ConditionalFlow, condition: Tensor?, count: Int) throws -> Int {
        guard count >= 1 else { throw Net2NetError.configuration("count must be at least 1") }
        guard flow.configuration.isConditional else { return 1 }
        guard let condition else { throw Net2NetError.configuration("this flow is conditional: give a condition") }
        try checkCondition(condition, flow: flow, name: "condition")
        return condition.shape[0]
    }

    /// τ(v | c) for given noise v `[N·K, D]`: row r of v goes with condition
    /// row r / K, as in `sample` (K = `count`). The same v gives the same
    /// samples here and in any other implementation of the same τ.
    public static func sample(flow: ConditionalFlow, condition: Tensor?, count: Int, noise: Tensor) throws -> Tensor {
        let rows = try conditionRows(flow: flow, condition: condition, count: count)
        let D = flow.configuration.dimension
        guard noise.rank == 2, noise.shape[1] == D, noise.shape[0] == rows * count else {
            throw Net2NetError.parameter(name: "noise", problem: "must be [\(rows * count), \(D)] (\(rows) condition rows × count \(count)), got \(noise.shape)")
        }
        guard noise.isFinite else { throw Net2NetError.parameter(name: "noise", problem: "holds NaN or infinity") }
        return flow.sample(condition: flow.configuration.isConditional ? condition : nil, count: count, noise: noise)
    }

    /// Re-expresses `target` under another condition, keeping its residual:
    /// v = τ⁻¹(z_Θ | c), z_Θ* = τ(v | c*). `to` has one row per target or a
    /// single row used for all.
    public static func translate(flow: ConditionalFlow, target: Tensor, from: Tensor, to: Tensor) throws -> Tensor {
        guard target.rank == 2, target.shape[1] == flow.configuration.dimension else {
            throw Net2NetError.parameter(name: "target", problem: "must be [N, \(flow.configuration.dimension)] for this checkpoint, got \(target.shape)")
        }
        let N = target.shape[0]
        try checkCondition(from, flow: flow, name: "from")
        try checkCondition(to, flow: flow, name: "to")
        guard from.shape[0] == N else {
            throw Net2NetError.parameter(name: "from", problem: "has \(from.shape[0]) rows but the target has \(N)")
        }
        var destination = to
        if to.shape[0] == 1 && N != 1 {
            destination = to.gatherRows(Array(repeating: 0, count: N))
        } else if to.shape[0] != N {
            throw Net2NetError.parameter(name: "to", problem: "has \(to.shape[0]) rows; give one row per target (\(N)) or a single row")
        }
        let v = flow.forward(target, condition: from).output
        return flow.inverse(v, condition: destination).output
    }

    static func checkCondition(_ c: Tensor, flow: ConditionalFlow, name: String) throws {
        guard flow.configuration.isConditional else { return }
        guard c.rank == 2, c.shape[1] == flow.configuration.conditionDimension else {
            throw Net2NetError.parameter(name: name, problem: "must be [N, \(flow.configuration.conditionDimension)] for this checkpoint, got \(c.shape)")
        }
    }
}
