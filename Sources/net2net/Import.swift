import ArgumentParser
import Flow
import Foundation
import Net2Net

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a τ trained by the reference code (CompVis/net2net's ConditionalFlatCouplingFlow).",
        discussion: """
        Reads a PyTorch Lightning checkpoint (.ckpt, the flow under state_dict with the prefix \
        'flow.'; the experts stored beside it are skipped) or the flow's own state_dict (.pth), \
        infers the architecture from the tensor shapes, and writes DIR/flow.safetensors, which \
        eval, sample and translate take as --checkpoint. Keys it cannot map are refused by name: \
        conditioning_option parallel/sequential and an ActNorm embedder are not supported.

        The activation between ActNorm and the coupling has no parameters, so the file cannot \
        tell it: give --activation lrelu for a model trained with activation: "lrelu" (the \
        class's default); every published translation config uses "none". With lrelu, eval \
        reports the reference's NLL, which (like the reference) leaves out that layer's \
        log-determinant.

        Python objects in the file other than tensors and containers (a Lightning \
        checkpoint's callback states, keyed by their class; hyper-parameter objects) are read \
        as inert placeholders: nothing in the file is ever run, and only the tensors are used.

        Example:
          net2net import sbert-to-biggan.ckpt --output-dir models/sbert-to-biggan
          net2net eval --checkpoint models/sbert-to-biggan --condition c.npy --target z.npy
        """)

    @Argument(help: "A Lightning .ckpt or a state_dict .pth of the reference's ConditionalFlatCouplingFlow.")
    var file: String
    @Option(help: "Directory to write flow.safetensors into (created if needed).") var outputDir: String
    @Option(help: "The activation the model was trained with: none or lrelu.") var activation: String = "none"
    @Flag(help: "Replace an existing flow.safetensors in the output directory.") var overwrite = false

    func run() throws {
        guard let chosen = FlowActivation(rawValue: activation) else {
            throw ValidationError("--activation must be one of: \(FlowActivation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let output = fileURL(outputDir)
        let destination = output.appendingPathComponent(FlowCheckpoint.flowFile)
        if FileManager.default.fileExists(atPath: destination.path) && !overwrite {
            throw Net2NetError.output(path: destination.path, problem: "already exists; give --overwrite to replace it")
        }
        let imported = try ReferenceFlowImport.load(fileURL(file), activation: chosen)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try FlowCheckpoint.save(imported.flow, to: output, step: imported.step ?? 0,
                                extraMetadata: ["imported_from": URL(fileURLWithPath: file).lastPathComponent])
        let c = imported.flow.configuration
        print("imported \(imported.keyPrefix.isEmpty ? "state_dict" : "Lightning checkpoint") \(file) → \(destination.path)")
        print("  in_channels \(c.dimension), conditioning_dim \(c.conditionDimension), embedding_dim \(c.embeddingDimension), "
              + "hidden_dim \(c.hiddenDimension), hidden_depth \(c.hiddenDepth), n_flows \(c.blockCount), "
              + "conditioning_hidden_dim \(c.conditioningHiddenDimension), conditioning_depth \(c.conditioningDepth), "
              + "conditioner_use_bn \(c.conditionerUsesBatchNorm), activation \(c.activation.rawValue)")
        print("  \(imported.flow.parameterCount) parameters; ActNorm \(imported.flow.isActNormInitialized ? "initialised" : "not initialised (training will initialise it)")"
              + (imported.skippedTensorCount > 0 ? "; \(imported.skippedTensorCount) tensors outside the flow skipped" : ""))
    }
}
