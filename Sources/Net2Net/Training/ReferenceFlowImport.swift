import Flow
import Formats
import Foundation
import Layers
import TensorCore

/// Imports a conditional INN trained by the reference code (CompVis/net2net,
/// `ConditionalFlatCouplingFlow`), from a PyTorch Lightning checkpoint
/// (`.ckpt`: the flow under `state_dict` with the prefix `flow.`, beside the
/// frozen experts, which are skipped) or from the flow's own `state_dict`
/// (`.pth`, keys `embedder.…` and `sub_layers.N.…`). Python objects other
/// than tensors and containers in the file are read as inert placeholders.
///
/// The sizes come from the tensor shapes and the embedder's BatchNorm from
/// the keys present. What the reference does, and how it maps here:
/// - **ActNorm** computes `h = scale·(x + loc)` with `loc`, `scale` of shape
///   `[1, D, 1, 1]`; ours keeps `log_scale = log(scale)`, so every scale
///   must be positive (training from the data-dependent start keeps it so).
///   Its `initialized` buffers say whether it was initialised from data.
/// - **The activation** (`lrelu`: `InvLeakyRelu`, α = 0.9, no log-determinant;
///   `none`: identity) has no parameters, so the keys cannot tell; the caller
///   says which (every published config uses `none`).
/// - **The coupling** (`ConditionalDoubleVectorCouplingBlock`) chunks x into
///   (a, b), b' = b·exp(s₀([a, e])) + t₀([a, e]), swaps to (b', a), then
///   a' = a·exp(s₁([b', e])) + t₁([b', e]) and returns (b', a'): our
///   `AffineCoupling` exactly. Its nets are sized `D // 2` on both sides, so
///   D is even. `s.j.main.k` / `t.j.main.k` are our `sj.layers.k` / `tj.layers.k`
///   (Linear, LeakyReLU 0.01, …, Linear, and Tanh on s).
/// - **The shuffle** `x[:, forward_shuffle_idx]` is our permutation as is.
/// - **The embedder** (`BasicFullyConnectedNet`, `embedder.main.i`) numbers
///   its modules as ours does (`embedder.layers.i`).
/// - Refused: `conditioning_option` parallel or sequential
///   (`conditioning_layers.…`), an ActNorm embedder (`conditioner_use_an`),
///   and any key without a counterpart, named in the error.
public enum ReferenceFlowImport {
    public struct Imported {
        public let flow: ConditionalFlow
        /// `"flow."` for a Lightning checkpoint, `""` for a bare state_dict.
        public let keyPrefix: String
        /// Tensors outside the flow (a Lightning checkpoint's experts and
        /// optimizer state), not imported.
        public let skippedTensorCount: Int
        /// The checkpoint's `global_step`, when it has one.
        public let step: Int?
    }

    /// Reads `url` and builds the flow it holds, with `activation` after
    /// each ActNorm.
    public static func load(_ url: URL, activation: FlowActivation) throws -> Imported {
        let path = url.path
        // A Lightning checkpoint pickles more than tensors (callback states
        // keyed by their class, hyper-parameter objects): those are kept as
        // inert placeholders, never run, and only the tensors are read.
        let contents = try PyTorchCheckpoint.load(url, unknownGlobals: .placeholder)
        let stateDict = contents.root["state_dict"] ?? contents.root
        let all = stateDict.tensors()
        let keyPrefix = all.contains { $0.name.hasPrefix("flow.") } ? "flow." : ""
        var keys = ReferenceKeys(path: path, prefix: keyPrefix)
        for (name, tensor) in all where name.hasPrefix(keyPrefix) {
            keys.values[String(name.dropFirst(keyPrefix.count))] = tensor.value
        }
        guard !keys.values.isEmpty else {
            throw Net2NetError.checkpoint(path: path, problem: "holds no tensors; expected the state_dict of a ConditionalFlatCouplingFlow")
        }
        let configuration = try inferConfiguration(&keys, activation: activation)
        let layouts = ConditionalFlow.layouts(for: configuration)
        let permutations = try (0..<configuration.blockCount).map { try keys.permutation(block: $0, dimension: configuration.dimension) }
        let flow = ConditionalFlow(configuration: configuration, permutations: permutations)
        for entry in layouts.parameters.entries {
            FlowCheckpoint.assign(try keys.parameter(forOurName: entry.name, shape: entry.shape), to: entry, in: flow.parameters)
        }
        for entry in layouts.buffers.entries {
            FlowCheckpoint.assign(try keys.parameter(forOurName: entry.name, shape: entry.shape), to: entry, in: flow.buffers)
        }
        flow.isActNormInitialized = try keys.actNormInitialized(blocks: configuration.blockCount)
        try keys.checkAllUsed()
        guard flow.parameters.isFinite, flow.buffers.isFinite else {
            throw Net2NetError.checkpoint(path: path, problem: "contains non-finite parameters (NaN or infinity)")
        }
        var step: Int? = nil
        if case .int(let value)? = contents.root["global_step"] { step = Int(value) }
        return Imported(flow: flow, keyPrefix: keyPrefix, skippedTensorCount: all.count - keys.values.count, step: step)
    }

    /// The architecture implied by the shapes of `keys`.
    static func inferConfiguration(_ keys: inout ReferenceKeys, activation: FlowActivation) throws -> FlowConfiguration {
        if let key = keys.values.keys.sorted().first(where: { $0.hasPrefix("conditioning_layers.") }) {
            throw keys.error("\(keys.prefix)\(key): conditioning_option 'parallel' or 'sequential' is not supported (only 'none')")
        }
        if keys.values["embedder.main.1.loc"] != nil {
            throw keys.error("\(keys.prefix)embedder.main.1.loc: an ActNorm embedder (conditioner_use_an) is not supported")
        }
        let blockCount = try keys.contiguousIndices(under: "sub_layers.")
        guard blockCount > 0 else { throw keys.error("no sub_layers.N keys: not a ConditionalFlatCouplingFlow") }
        let loc = try keys.shape("sub_layers.0.norm_layer.loc")
        guard loc.count == 4, loc[0] == 1, loc[2] == 1, loc[3] == 1 else {
            throw keys.error("\(keys.prefix)sub_layers.0.norm_layer.loc has shape \(loc), expected [1, D, 1, 1]")
        }
        let D = loc[1]
        let embedder = try keys.linearShapes(under: "embedder.main.")
        guard embedder.count >= 2 else { throw keys.error("the embedder (embedder.main.…) needs at least two Linear layers") }
        let usesBatchNorm = keys.values["embedder.main.1.running_mean"] != nil
        let subnet = try keys.linearShapes(under: "sub_layers.0.coupling.s.0.main.")
        guard subnet.count >= 2 else { throw keys.error("the coupling nets (sub_layers.0.coupling.s.0.main.…) need at least two Linear layers") }
        let E = embedder.last![0]
        guard D % 2 == 0, subnet[0][1] == D / 2 + E else {
            throw keys.error("\(keys.prefix)sub_layers.0.coupling.s.0.main.0.weight has shape \(subnet[0]); with D = \(D) and embedding_dim = \(E) the reference needs [H, \(D / 2 + E)] (and D even)")
        }
        let configuration = FlowConfiguration(
            dimension: D, conditionDimension: embedder[0][1], embeddingDimension: E,
            hiddenDimension: subnet[0][0], hiddenDepth: subnet.count - 2, blockCount: blockCount,
            conditioningHiddenDimension: embedder[0][0], conditioningDepth: embedder.count - 2,
            conditionerUsesBatchNorm: usesBatchNorm, leakySlope: 0.01, activation: activation)
        guard configuration.problems.isEmpty else {
            throw keys.error("the inferred architecture is invalid: " + configuration.problems.joined(separator: "; "))
        }
        return configuration
    }
}
