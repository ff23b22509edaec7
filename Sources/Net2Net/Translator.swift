import Experts
import Flow
import Foundation
import TensorCore

/// Net2Net's translation between two frozen experts (paper §3):
///
///     query x ──Φ──▶ z_Φ ──τ(v | z_Φ)──▶ z_Θ ──Λ──▶ image,   v ~ N(0, T²·I)
///
/// Φ is a `ConditionEncoder`, τ the trained conditional flow and Λ an
/// `ImageDecoder`. Either expert may be absent: without Φ conditions are given
/// as z_Φ, without Λ results stay latents. Randomness comes only from the seed
/// passed to each call.
public final class Translator {
    /// Φ, or nil when conditions are given as z_Φ.
    public let conditionEncoder: (any ConditionEncoder)?
    /// τ.
    public let flow: ConditionalFlow
    /// Λ, or nil when results stay latents z_Θ.
    public let decoder: (any ImageDecoder)?

    /// Joins Φ, τ and Λ; their widths must agree: Φ's z_Φ is τ's condition
    /// and τ's z_Θ is Λ's latent (`Net2NetError.configuration` otherwise).
    public init(conditionEncoder: (any ConditionEncoder)?, flow: ConditionalFlow, decoder: (any ImageDecoder)?) throws {
        let c = flow.configuration
        if let conditionEncoder, c.isConditional, conditionEncoder.conditionDimension != c.conditionDimension {
            throw Net2NetError.configuration("τ takes \(c.conditionDimension)-d conditions but \(conditionEncoder.expertDescription.name) gives \(conditionEncoder.conditionDimension)-d ones")
        }
        if let decoder, decoder.latentDimension != c.dimension {
            throw Net2NetError.configuration("τ maps to a \(c.dimension)-d latent but \(decoder.expertDescription.name)'s is \(decoder.latentDimension)-d")
        }
        self.conditionEncoder = conditionEncoder
        self.flow = flow
        self.decoder = decoder
    }

    /// Φ: z_Φ `[N, Dc]` of `input`.
    public func condition(_ input: ExpertInput) throws -> Tensor {
        guard let conditionEncoder else {
            throw Net2NetError.unsupported("this translator has no condition encoder: give z_Φ")
        }
        return try conditionEncoder.encode(input)
    }

    /// τ: K = `count` samples z_Θ per condition row, `[N·K, D]`, condition-major,
    /// drawn from `seed` (`condition` is nil for an unconditional flow).
    public func sample(condition: Tensor?, count: Int, temperature: Float = 1, seed: UInt64) throws -> Tensor {
        try Translation.sample(flow: flow, condition: condition, count: count, temperature: temperature, seed: seed)
    }

    /// τ with given noise v `[N·K, D]` instead of a seed (see `Translation.sample(flow:condition:count:noise:)`).
    public func sample(condition: Tensor?, count: Int, noise: Tensor) throws -> Tensor {
        try Translation.sample(flow: flow, condition: condition, count: count, noise: noise)
    }

    /// Φ then τ: K samples z_Θ per query.
    public func sample(_ input: ExpertInput, count: Int, temperature: Float = 1, seed: UInt64) throws -> Tensor {
        try sample(condition: try condition(input), count: count, temperature: temperature, seed: seed)
    }

    /// τ⁻¹ then τ: re-expresses latents z_Θ `[N, D]` under another condition,
    /// keeping their residual v = τ⁻¹(z_Θ | from); `to` has N rows or one.
    public func translate(_ latents: Tensor, from: Tensor, to: Tensor) throws -> Tensor {
        try Translation.translate(flow: flow, target: latents, from: from, to: to)
    }

    /// Λ: images `[N, C, H, W]` in [-1, 1] of latents z_Θ `[N, D]`.
    public func decode(_ latents: Tensor) throws -> Tensor {
        guard let decoder else { throw Net2NetError.unsupported("this translator has no image decoder") }
        return try decoder.decode(latents)
    }

    /// Φ → τ → Λ: K images per query, `[N·K, C, H, W]`, condition-major.
    public func images(_ input: ExpertInput, count: Int, temperature: Float = 1, seed: UInt64) throws -> Tensor {
        try decode(try sample(input, count: count, temperature: temperature, seed: seed))
    }
}

extension Translator {
    /// The translator of an experiment's checkpoint: τ from `location` (a run
    /// directory, a slot or its flow file), Φ and Λ the experts its
    /// `experiment.json` names, loaded through `ExpertRegistry`.
    public static func experiment(at location: URL, loading: ExpertLoading = ExpertLoading()) throws -> Translator {
        guard let manifest = try ExperimentManifest.load(CheckpointDirectory.runDirectory(for: location)) else {
            throw Net2NetError.checkpoint(path: location.path, problem: "has no \(ExperimentManifest.file): not an experiment's checkpoint")
        }
        return try Translator(conditionEncoder: try ExpertRegistry.conditionEncoder(named: manifest.conditionExpert, loading: loading),
                              flow: try FlowCheckpoint.load(location).flow,
                              decoder: try ExpertRegistry.imageDecoder(named: manifest.targetExpert, loading: loading))
    }
}
