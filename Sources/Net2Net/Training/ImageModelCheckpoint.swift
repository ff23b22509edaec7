import Experts
import Formats
import Foundation
import Layers
import TensorCore

/// One `.safetensors` file holding a model's parameters and BatchNorm
/// buffers by name (F32), with `format`, `config` (JSON) and `step` in the
/// metadata, written atomically. Used for our autoencoder and the evaluation
/// classifier. Training writes it beside its optimiser state in one
/// `CheckpointDirectory` generation; loading takes the file, or a directory
/// (a run's `last` slot, or a directory holding the file).
public enum ImageModelCheckpoint {
    static func save(parameters: FloatBuffer, layout: ParameterLayout, buffers: FloatBuffer, bufferLayout: ParameterLayout,
                     format: String, configuration: String, step: Int, to url: URL,
                     extraMetadata: [String: String] = [:]) throws {
        var tensors: [(name: String, value: SafeTensorValue)] = []
        for entry in layout.entries { tensors.append((entry.name, .float32(FlowCheckpoint.tensor(entry, in: parameters)))) }
        for entry in bufferLayout.entries { tensors.append((entry.name, .float32(FlowCheckpoint.tensor(entry, in: buffers)))) }
        var metadata = extraMetadata
        metadata["format"] = format
        metadata["config"] = configuration
        metadata["step"] = String(step)
        try SafeTensorsFile.write(tensors, metadata: metadata, to: url)
    }

    /// Opens `url`, checks its format, and returns the file and its `config` JSON.
    static func open(_ location: URL, file name: String, format: String, what: String)
        throws -> (file: SafeTensorsFile, configuration: Data, step: Int, url: URL) {
        let url = CheckpointDirectory.file(name, at: location)
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Net2NetError.checkpoint(path: path, problem: "no such file")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == format, let json = file.metadata["config"] else {
            throw Net2NetError.checkpoint(path: path, problem: "not a net2net \(what) checkpoint (its metadata lacks format '\(format)' or config)")
        }
        return (file, Data(json.utf8), Int(file.metadata["step"] ?? "0") ?? 0, url)
    }

    /// Fills a model's parameters and buffers from `file`, checking names, shapes and finiteness.
    static func fill(parameters: FloatBuffer, layout: ParameterLayout, buffers: FloatBuffer, bufferLayout: ParameterLayout,
                     from file: SafeTensorsFile, path: String) throws {
        try FlowCheckpoint.fill(parameters, layout: layout, from: file, path: path)
        try FlowCheckpoint.fill(buffers, layout: bufferLayout, from: file, path: path)
        guard parameters.array().allSatisfy(\.isFinite), buffers.array().allSatisfy(\.isFinite) else {
            throw Net2NetError.checkpoint(path: path, problem: "contains non-finite values")
        }
    }
}

extension ConvolutionalVAE {
    static let checkpointFormat = "net2net-autoencoder"

    /// Writes the autoencoder to `url` (one `.safetensors` file).
    public func save(to url: URL, step: Int = 0) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try ImageModelCheckpoint.save(parameters: parameters, layout: layout, buffers: buffers, bufferLayout: bufferLayout,
                                      format: ConvolutionalVAE.checkpointFormat,
                                      configuration: String(decoding: try encoder.encode(architecture), as: UTF8.self),
                                      step: step, to: url)
    }

    /// Reads an autoencoder written by `save` (the file, or a directory holding it).
    public static func load(_ location: URL) throws -> (model: ConvolutionalVAE, step: Int) {
        let (file, json, step, url) = try ImageModelCheckpoint.open(location, file: AutoencoderTrainingTask.modelFile,
                                                                     format: checkpointFormat, what: "autoencoder")
        let architecture: AutoencoderArchitecture
        do { architecture = try JSONDecoder().decode(AutoencoderArchitecture.self, from: json) } catch {
            throw Net2NetError.checkpoint(path: url.path, problem: "unreadable architecture in metadata: \(error)")
        }
        guard architecture.problems.isEmpty else {
            throw Net2NetError.checkpoint(path: url.path, problem: "invalid architecture: " + architecture.problems.joined(separator: "; "))
        }
        let model = ConvolutionalVAE(architecture: architecture)
        try ImageModelCheckpoint.fill(parameters: model.parameters, layout: model.layout, buffers: model.buffers,
                                      bufferLayout: model.bufferLayout, from: file, path: url.path)
        return (model, step)
    }
}

extension EvaluationClassifier {
    static let checkpointFormat = "net2net-classifier"

    /// Writes the classifier to `url` (one `.safetensors` file).
    public func save(to url: URL, step: Int = 0) throws {
        try ImageModelCheckpoint.save(parameters: parameters, layout: layout, buffers: buffers, bufferLayout: bufferLayout,
                                      format: EvaluationClassifier.checkpointFormat,
                                      configuration: "{\"classes\":\(EvaluationClassifier.classCount)}", step: step, to: url)
    }

    /// Reads a classifier written by `save` (the file, or a directory holding it).
    public static func load(_ location: URL) throws -> (model: EvaluationClassifier, step: Int) {
        let (file, _, step, url) = try ImageModelCheckpoint.open(location, file: ClassifierTrainingTask.modelFile,
                                                                  format: checkpointFormat, what: "classifier")
        let model = EvaluationClassifier()
        try ImageModelCheckpoint.fill(parameters: model.parameters, layout: model.layout, buffers: model.buffers,
                                      bufferLayout: model.bufferLayout, from: file, path: url.path)
        return (model, step)
    }
}
