import Flow
import Foundation
import Layers

/// Everything `net2net train` needs: the flow's architecture (its data
/// dimensions come from the files), the optimiser and the loop. Keys are
/// the reference's names; see `TrainingConfiguration.keys` for all.
public struct TrainingConfiguration: YAMLConfigurable, Equatable {
    // Data.
    public var condition: String? = nil
    public var target: String? = nil
    public var outputDirectory: String? = nil
    // Architecture (reference names).
    public var hiddenDimension = 1024
    public var hiddenDepth = 2
    public var blockCount = 20
    public var embeddingDimension = 128
    public var conditioningHiddenDimension = 256
    public var conditioningDepth = 2
    /// BatchNorm in the condition's embedding net, as the reference has it.
    /// Off by default. Without it the embedder's PyTorch-default weights
    /// shrink its output to about 0.05 of the condition's scale, so τ starts
    /// nearly blind to the condition and learns it slowly: that overfits
    /// small data much later (on 5 000 pairs of the README's linear Gaussian
    /// the held-out excess over the entropy halves; scale-keeping He weights
    /// put it back where BatchNorm has it), but a short run with a narrow
    /// conditioner may need BatchNorm to follow its condition at all. The
    /// experiment recipes in `configs/` keep it: on MiniLM's sentence
    /// embeddings it follows the captions better (README, text → image).
    public var conditionerUsesBatchNorm = false
    /// Standardise the condition inside the flow with the training
    /// conditions' per-dimension mean and deviation (fixed buffers, saved
    /// with the flow), so that the embedder sees unit scale whatever the
    /// condition's scale; without BatchNorm this is what keeps τ following
    /// conditions of small scale (sentence embeddings are about 0.05 per
    /// dimension). On by default; on conditions already of unit scale it
    /// changes nothing measurable. Optional so that training states written
    /// before the key existed decode (as off, which is what they did).
    public var standardizesCondition: Bool? = true
    // Optimisation.
    public var batchSize = 16
    /// lr = batch_size × base_learning_rate. The reference's base is 4.5e-6
    /// (`configs/reference.yaml`); the default is lower because on small
    /// data the reference's rate overfits within a few hundred steps (README:
    /// the training keys, measured on the linear Gaussian). A lower rate
    /// needs more steps: a small flow or a short run may need a higher one.
    public var baseLearningRate = 1e-6
    public var steps = 10_000
    public var seed: UInt64 = 0
    public var validationFraction = 0.1
    public var gradientClip = 0.0
    public var warmupSteps = 0
    /// Cosine decay to `lr_final_fraction` at `steps`: the last checkpoint
    /// is then close to the best, where a constant rate keeps overfitting.
    public var learningRateDecay = LearningRateSchedule.Decay.cosine
    public var finalLearningRateFraction = 0.0
    // Loop.
    public var logEvery = 50
    /// Steps between validations; nil validates `validationsPerRun` times
    /// in a run (`validationInterval`), so that short runs on small data,
    /// which overfit within a few hundred steps, still find their best step.
    public var validateEvery: Int? = nil
    public var checkpointEvery = 1000
    /// Stop after this many validations in a row without a new best
    /// validation NLL; nil or 0 trains for `steps` (optional so that
    /// training states written before the key existed still decode).
    public var earlyStoppingPatience: Int? = nil
    /// Standard deviation of Gaussian noise added to every training
    /// condition z_Φ, drawn afresh each step (an augmentation: τ learns the
    /// conditions' neighbourhoods, not only the points; validation and
    /// sampling see clean conditions). nil or 0: none. Optional so that
    /// training states written before the key existed still decode.
    public var conditionNoise: Double? = nil
    /// Decoupled weight decay (as AdamW): after each step every parameter
    /// is multiplied by 1 − lr·weight_decay. Unset: `defaultWeightDecayPairs`
    /// divided by the number of training pairs (`effectiveWeightDecay`); 0: none.
    public var weightDecay: Double? = nil

    /// Unset `weight_decay` is this many pairs over the training pairs: a pull
    /// towards 0 that weakens as the data grows, as a fixed Gaussian prior on
    /// the parameters does against a likelihood summed over N pairs
    /// (2.2 for 4 500 training pairs, 0.2 for 45 000), at most
    /// `maximumDefaultWeightDecay` and never more than a tenth of the
    /// parameters' size per step (lr·weight_decay ≤ 0.1).
    public static let defaultWeightDecayPairs = 10_000.0
    public static let maximumDefaultWeightDecay = 10.0

    /// The weight decay in effect for `trainingPairs` training pairs.
    public func effectiveWeightDecay(trainingPairs: Int) -> Double {
        if let weightDecay { return weightDecay }
        let scaled = Self.defaultWeightDecayPairs / Double(max(trainingPairs, 1))
        return min(scaled, Self.maximumDefaultWeightDecay, 0.1 / Double(learningRate))
    }
    /// Decay of an exponential moving average of the parameters (Polyak
    /// averaging): validation, and so the `best` checkpoint, use the
    /// averaged parameters; training and `last` keep the live ones. The
    /// decay in effect at update t is min(ema_decay, (1 + t)/(10 + t)), so
    /// early averages do not remember the initialisation. Unset: 0.999
    /// when the run validates (`defaultEMADecay`), off when it does not; 0:
    /// off. Set above 0 it needs validation (validation_fraction > 0).
    public var emaDecay: Double? = nil

    /// The averaging decay when `ema_decay` is unset and the run validates.
    public static let defaultEMADecay = 0.999

    /// The averaging decay in effect: `ema_decay`, or when unset
    /// `defaultEMADecay` if the run validates and 0 if not.
    public var effectiveEMADecay: Double { emaDecay ?? (validationFraction > 0 ? Self.defaultEMADecay : 0) }

    /// Whether training keeps a moving average of the parameters.
    public var averagesParameters: Bool { effectiveEMADecay > 0 }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case condition, target
        case outputDirectory = "output_dir"
        case hiddenDimension = "hidden_dim"
        case hiddenDepth = "hidden_depth"
        case blockCount = "n_flows"
        case embeddingDimension = "embedding_dim"
        case conditioningHiddenDimension = "conditioning_hidden_dim"
        case conditioningDepth = "conditioning_depth"
        case conditionerUsesBatchNorm = "conditioner_use_bn"
        case standardizesCondition = "standardize_condition"
        case batchSize = "batch_size"
        case baseLearningRate = "base_learning_rate"
        case steps, seed
        case validationFraction = "validation_fraction"
        case gradientClip = "grad_clip"
        case warmupSteps = "lr_warmup_steps"
        case learningRateDecay = "lr_decay"
        case finalLearningRateFraction = "lr_final_fraction"
        case logEvery = "log_every"
        case validateEvery = "validate_every"
        case checkpointEvery = "checkpoint_every"
        case earlyStoppingPatience = "early_stopping_patience"
        case conditionNoise = "condition_noise"
        case weightDecay = "weight_decay"
        case emaDecay = "ema_decay"
    }

    /// All accepted keys.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Validations in a run when `validate_every` is not set.
    public static let validationsPerRun = 30

    /// Steps between validations: `validate_every`, else steps / 30 (at least 1).
    public var validationInterval: Int { validateEvery ?? max(1, steps / TrainingConfiguration.validationsPerRun) }

    /// The learning rate: batch size × base learning rate, as the reference scales it.
    public var learningRate: Float { Float(Double(batchSize) * baseLearningRate) }

    /// The flow architecture for data of width `dimension` given conditions of width `conditionDimension`.
    public func flowConfiguration(dimension: Int, conditionDimension: Int) -> FlowConfiguration {
        FlowConfiguration(dimension: dimension, conditionDimension: conditionDimension,
                          embeddingDimension: embeddingDimension, hiddenDimension: hiddenDimension,
                          hiddenDepth: hiddenDepth, blockCount: blockCount,
                          conditioningHiddenDimension: conditioningHiddenDimension,
                          conditioningDepth: conditioningDepth,
                          conditionerUsesBatchNorm: conditionerUsesBatchNorm,
                          standardizesCondition: standardizesCondition ?? false)
    }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(base: learningRate, warmupSteps: warmupSteps, decay: learningRateDecay,
                             totalSteps: steps, finalFraction: Float(finalLearningRateFraction))
    }

    /// Problems with the values, as sentences naming the key.
    public var problems: [String] {
        var p: [String] = []
        func positive(_ v: Int, _ key: String) { if v < 1 { p.append("\(key) must be at least 1 (got \(v))") } }
        positive(hiddenDimension, "hidden_dim")
        positive(blockCount, "n_flows")
        positive(embeddingDimension, "embedding_dim")
        positive(conditioningHiddenDimension, "conditioning_hidden_dim")
        positive(steps, "steps")
        positive(logEvery, "log_every")
        if let validateEvery { positive(validateEvery, "validate_every") }
        positive(checkpointEvery, "checkpoint_every")
        if hiddenDepth < 0 { p.append("hidden_depth must not be negative") }
        if conditioningDepth < 0 { p.append("conditioning_depth must not be negative") }
        if batchSize < 2 { p.append("batch_size must be at least 2 (ActNorm and BatchNorm need batch statistics), got \(batchSize)") }
        if !(baseLearningRate > 0) || !baseLearningRate.isFinite { p.append("base_learning_rate must be a positive number") }
        if !(validationFraction >= 0 && validationFraction < 1) { p.append("validation_fraction must be in [0, 1)") }
        if gradientClip < 0 || !gradientClip.isFinite { p.append("grad_clip must be ≥ 0 (0 turns clipping off)") }
        if let patience = earlyStoppingPatience, patience < 0 { p.append("early_stopping_patience must not be negative (0 turns it off)") }
        if let decay = weightDecay {
            if !(decay >= 0 && decay.isFinite) { p.append("weight_decay must be ≥ 0 (0 turns it off)") }
            else if Double(learningRate) * decay >= 1 {
                p.append("weight_decay \(decay) × the learning rate \(learningRate) must be below 1: each step multiplies every parameter by 1 − lr·weight_decay")
            }
        }
        if let decay = emaDecay {
            if !(decay >= 0 && decay < 1) { p.append("ema_decay must be in [0, 1) (0 turns it off)") }
            else if decay > 0 && !(validationFraction > 0) {
                p.append("ema_decay needs validation (validation_fraction > 0): the averaged parameters are kept only as the best checkpoint")
            }
        }
        if let noise = conditionNoise, !(noise >= 0 && noise.isFinite) { p.append("condition_noise must be ≥ 0 (0 turns it off)") }
        if warmupSteps < 0 { p.append("lr_warmup_steps must not be negative") }
        if !(finalLearningRateFraction >= 0 && finalLearningRateFraction <= 1) { p.append("lr_final_fraction must be in [0, 1]") }
        return p
    }

    /// `lr_decay` takes the schedule's names.
    public static func choices(for key: String) -> [String]? {
        key == CodingKeys.learningRateDecay.rawValue ? LearningRateSchedule.Decay.allCases.map(\.rawValue) : nil
    }
}
