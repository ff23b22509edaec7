import Flow
import Formats
import Foundation
import Layers
import TensorCore

/// A flow checkpoint: two files written together as one unit.
/// - `flow.safetensors`: every parameter and BatchNorm buffer by name (F32),
///   each block's permutation (`blocks.i.shuffle.permutation`, I64), and in
///   the metadata the architecture (`config`, JSON), `actnorm_initialized`
///   and the training `step`;
/// - `training_state.safetensors` (written by training): Adam's moments,
///   its step, and the training configuration, so that resuming continues
///   exactly.
///
/// Training writes them into a generation directory of its output directory
/// and publishes it as the `last` slot in one rename (`CheckpointDirectory`
/// describes the layout; a `best` slot is reserved beside it). Loading takes
/// a run directory (its `last` slot), a slot or generation directory, a
/// directory holding `flow.safetensors` directly (shipped models, runs
/// written before slots), or the file itself. The architecture in the
/// metadata is checked against every tensor's shape in the file's header
/// before anything is allocated, and a checkpoint never holds non-finite
/// values: training refuses to write one and loading refuses to read one.
public enum FlowCheckpoint {
    public static let flowFile = "flow.safetensors"
    public static let stateFile = "training_state.safetensors"
    static let format = "net2net-conditional-flow"

    /// Writes `flow` into `directory/flow.safetensors` (atomically; the
    /// directory is created if needed).
    public static func save(_ flow: ConditionalFlow, to directory: URL, step: Int = 0,
                            extraMetadata: [String: String] = [:]) throws {
        var tensors: [(name: String, value: SafeTensorValue)] = []
        for entry in flow.layout.entries {
            tensors.append((entry.name, .float32(tensor(entry, in: flow.parameters))))
        }
        for entry in flow.bufferLayout.entries {
            tensors.append((entry.name, .float32(Tensor(shape: entry.shape,
                                                         scalars: flow.buffers.array(entry.offset..<(entry.offset + entry.count))))))
        }
        for (i, permutation) in flow.permutations.enumerated() {
            tensors.append(("blocks.\(i).shuffle.permutation", .int64(permutation.map(Int64.init), shape: [permutation.count])))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = extraMetadata
        metadata["format"] = format
        metadata["config"] = String(decoding: try encoder.encode(flow.configuration), as: UTF8.self)
        metadata["actnorm_initialized"] = flow.isActNormInitialized ? "true" : "false"
        metadata["step"] = String(step)
        try SafeTensorsFile.write(tensors, metadata: metadata, to: directory.appendingPathComponent(flowFile))
    }

    /// Reads a flow from a checkpoint directory (or a `flow.safetensors` file).
    public static func load(_ location: URL) throws -> (flow: ConditionalFlow, step: Int, metadata: [String: String]) {
        let url = flowFileURL(location)
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Net2NetError.checkpoint(path: path, problem: "no such file; is this a checkpoint directory written by 'net2net train'?")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        let metadata = file.metadata
        guard metadata["format"] == format, let json = metadata["config"] else {
            throw Net2NetError.checkpoint(path: path, problem: "not a net2net flow checkpoint (metadata lacks format/config)")
        }
        let configuration: FlowConfiguration
        do {
            configuration = try JSONDecoder().decode(FlowConfiguration.self, from: Data(json.utf8))
        } catch {
            throw Net2NetError.checkpoint(path: path, problem: "unreadable architecture in metadata: \(error)")
        }
        guard configuration.problems.isEmpty else {
            throw Net2NetError.checkpoint(path: path, problem: "invalid architecture: " + configuration.problems.joined(separator: "; "))
        }
        var permutations: [[Int]] = []
        for i in 0..<configuration.blockCount {
            let name = "blocks.\(i).shuffle.permutation"
            guard let info = file.info(name) else { throw Net2NetError.checkpoint(path: path, problem: "missing tensor \(name)") }
            guard info.shape == [configuration.dimension] else {
                throw Net2NetError.checkpoint(path: path, problem: "\(name) has shape \(info.shape), the architecture needs [\(configuration.dimension)]")
            }
            let p = try file.int64(name).map { Int($0) }
            guard Set(p) == Set(0..<configuration.dimension) else {
                throw Net2NetError.checkpoint(path: path, problem: "\(name) is not a permutation of 0..<\(configuration.dimension)")
            }
            permutations.append(p)
        }
        // Every shape the architecture implies must be in the header before
        // the parameters are allocated: a header claiming hidden_dim 10⁹
        // beside small tensors is an error here, not an allocation.
        let layouts = ConditionalFlow.layouts(for: configuration)
        try checkShapes(layouts.parameters, in: file, path: path)
        try checkShapes(layouts.buffers, in: file, path: path)
        let flow = ConditionalFlow(configuration: configuration, permutations: permutations)
        try fill(flow.parameters, layout: flow.layout, from: file, path: path)
        try fill(flow.buffers, layout: flow.bufferLayout, from: file, path: path)
        guard flow.parameters.isFinite, flow.buffers.isFinite else {
            throw Net2NetError.checkpoint(path: path, problem: "contains non-finite parameters (NaN or infinity); it cannot be used — train again or use an earlier checkpoint")
        }
        if let std = flow.bufferLayout.entry("embedder.condition_std"),
           !flow.buffers.array(std.offset..<(std.offset + std.count)).allSatisfy({ $0 > 0 }) {
            throw Net2NetError.checkpoint(path: path, problem: "embedder.condition_std has a value that is not positive; the condition cannot be standardised by it")
        }
        flow.isActNormInitialized = metadata["actnorm_initialized"] == "true"
        return (flow, Int(metadata["step"] ?? "0") ?? 0, metadata)
    }

    static func flowFileURL(_ location: URL) -> URL {
        CheckpointDirectory.file(flowFile, at: location)
    }

    /// Checks that `file` holds every tensor of `layout` with its shape.
    static func checkShapes(_ layout: ParameterLayout, in file: SafeTensorsFile, path: String) throws {
        for entry in layout.entries {
            guard let info = file.info(entry.name) else {
                throw Net2NetError.checkpoint(path: path, problem: "missing tensor \(entry.name)")
            }
            guard info.shape == entry.shape else {
                throw Net2NetError.checkpoint(path: path, problem: "\(entry.name) has shape \(info.shape), the architecture needs \(entry.shape)")
            }
        }
    }

    static func fill(_ buffer: FloatBuffer, layout: ParameterLayout, from file: SafeTensorsFile, path: String) throws {
        try checkShapes(layout, in: file, path: path)
        for entry in layout.entries { assign(try file.tensor(entry.name).scalars, to: entry, in: buffer) }
    }

    /// Puts the published-shape values of `entry` into `buffer` (transposing
    /// for a transposed storage).
    static func assign(_ values: [Float], to entry: ParameterLayout.Entry, in buffer: FloatBuffer) {
        buffer.assign(entry.storedTransposed ? transposeMatrix(values, rows: entry.shape[0], columns: entry.shape[1]) : values,
                      at: entry.offset)
    }

    /// The named tensor of `entry` in its published shape (undoing a transposed storage).
    static func tensor(_ entry: ParameterLayout.Entry, in buffer: FloatBuffer) -> Tensor {
        let values = buffer.array(entry.offset..<(entry.offset + entry.count))
        guard entry.storedTransposed else { return Tensor(shape: entry.shape, scalars: values) }
        // Memory holds [shape[1], shape[0]].
        return Tensor(shape: entry.shape, scalars: transposeMatrix(values, rows: entry.shape[1], columns: entry.shape[0]))
    }

    // MARK: training state

    /// Writes Adam's state and the training configuration (`extraMetadata`: e.g. the best validation so far).
    static func saveState(_ adam: Adam, average: FloatBuffer? = nil, step: Int, configuration: TrainingConfiguration, to directory: URL,
                          extraMetadata: [String: String] = [:]) throws {
        let n = adam.firstMoment.count
        var tensors: [(name: String, value: SafeTensorValue)] = [
            ("adam.exp_avg", .float32(Tensor(shape: [n], scalars: adam.firstMoment.array()))),
            ("adam.exp_avg_sq", .float32(Tensor(shape: [n], scalars: adam.secondMoment.array()))),
        ]
        if adam.amsgrad {
            tensors.append(("adam.max_exp_avg_sq", .float32(Tensor(shape: [n], scalars: adam.maxSecondMoment.array()))))
        }
        if let average {
            tensors.append((averageName, .float32(Tensor(shape: [n], scalars: average.array()))))
        }
        try SafeTensorsFile.write(tensors, metadata: extraMetadata.merging([
            "format": "net2net-training-state",
            "step": String(step),
            "adam_step": String(adam.step),
            "training": configuration.json(),
        ], uniquingKeysWith: { _, own in own }), to: directory.appendingPathComponent(stateFile))
    }

    /// The moving average of the parameters in a training state (`ema_decay`).
    static let averageName = "ema.parameters"

    /// Restores Adam's state; returns the step, the saved training
    /// configuration, the file's metadata and the parameters' moving average if it has one.
    static func loadState(into adam: Adam, from directory: URL)
        throws -> (step: Int, configuration: TrainingConfiguration, metadata: [String: String], average: FloatBuffer?) {
        let url = CheckpointDirectory.file(stateFile, at: directory, slot: CheckpointDirectory.lastSlot)
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Net2NetError.checkpoint(path: path, problem: "no training state to resume from")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == "net2net-training-state",
              let step = Int(file.metadata["step"] ?? ""), let adamStep = Int(file.metadata["adam_step"] ?? ""),
              let json = file.metadata["training"],
              let configuration = try? JSONDecoder().decode(TrainingConfiguration.self, from: Data(json.utf8)) else {
            throw Net2NetError.checkpoint(path: path, problem: "not a net2net training state (metadata incomplete)")
        }
        let average = file.info(averageName) == nil ? nil : FloatBuffer(count: adam.firstMoment.count)
        var names = ["adam.exp_avg": adam.firstMoment, "adam.exp_avg_sq": adam.secondMoment]
        if adam.amsgrad { names["adam.max_exp_avg_sq"] = adam.maxSecondMoment }
        if let average { names[averageName] = average }
        for (name, buffer) in names {
            guard let info = file.info(name), info.shape == [buffer.count] else {
                throw Net2NetError.checkpoint(path: path, problem: "\(name) is missing or does not match the flow's \(buffer.count) parameters")
            }
            buffer.assign(try file.tensor(name).scalars)
            guard buffer.isFinite else {
                throw Net2NetError.checkpoint(path: path, problem: "\(name) holds non-finite values (NaN or infinity)")
            }
        }
        adam.step = adamStep
        return (step, configuration, file.metadata, average)
    }
}
