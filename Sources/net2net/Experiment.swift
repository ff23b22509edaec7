import ArgumentParser
import Datasets
import Experts
import Flow
import Formats
import Foundation
import MessagePassing
import Net2Net
import TensorCore

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one of the paper's experiments from a recipe (configs/*.yaml).",
        subcommands: [ExperimentTrain.self, ExperimentPairs.self])
}

struct ExperimentTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Build the pairs (z_Φ, z_Θ) of a recipe with the frozen experts and train τ on them.",
        discussion: """
        z_Θ is the shipped autoencoder's posterior mean of each training image; z_Φ is the \
        one-hot class (label-to-image), the MiniLM embedding of a caption made from the \
        image's class and measured properties (text-to-image), or the EfficientNet-Lite0 \
        features of the image's edge map (edges-to-image; edges: sobel, or hed for HED's learned \
        edges) or of the image with a region \
        masked (inpainting). gan-translation samples its pairs: z_Θ = z ~ N(0, I), the DCGAN's \
        latent, and z_Φ the EfficientNet features of the face DCGAN(z). The flow checkpoint, \
        experiment.json (the experts, caption attributes, mask, edges) and a sample grid (samples.png) \
        go to the output directory (default runs/<recipe name>). Keys: experiment, train_images, \
        captions_per_image, captions (text-to-image's caption vocabulary: templates; wordnet for \
        WordNet's names and glosses of the classes; described, wordnet plus the items' parts, \
        materials and uses), balance_classes (more captions for the images \
        of rarer classes), text_expert, mask, pairs, edges and every key of `net2net train`. An \
        image's captions are held out for validation together.

        text-to-biggan samples its pairs too: a caption naming an ImageNet class (of `classes`) \
        embedded by `text_expert`, and z_Θ = [z, e] of BigGAN (noise at `truncation`, the class's \
        embedding). It needs BigGAN's weights, which are not fetched: the recipe's `weights:` key \
        or --weights DIR (pytorch_model.bin and config.json of pytorch-pretrained-biggan).

        --distributed (under mpirun -np N): each process runs the frozen experts on a strided \
        share of the images, in chunks of 2048 that rank 0 gathers in their original order into \
        OUTPUT/pairs-cache/ (a killed run resumes at the first missing chunk; a later run, also \
        in one process, reuses the complete cache), then τ trains data-parallel as in \
        `net2net train --distributed`.

        Example:
          net2net experiment train configs/text-to-image.yaml
          net2net experiment train configs/text-to-biggan.yaml --weights biggan-deep-128/
          mpirun -np 4 net2net experiment train configs/edges-to-image.yaml --distributed --threads 1
        """)

    @Argument(help: "The recipe (YAML).") var recipe: String
    @Option(name: .customLong("set"), help: "Override a key: --set key=value (repeatable).") var overrides: [String] = []
    @Option(name: .customLong("output-dir"), help: "Where the checkpoint goes (default runs/<recipe name>).") var outputDirectory: String?
    @Option(help: "An autoencoder checkpoint other than the shipped one.") var autoencoder: String?
    @Option(help: "text-to-biggan: BigGAN's model directory (pytorch_model.bin and config.json); overrides the recipe's `weights`.")
    var weights: String?
    @Flag(help: "Continue from the checkpoint in the output directory.") var resume = false
    @Flag(help: "Shard the experts' work and train data-parallel over the processes of an MPI job (mpirun -np N).")
    var distributed = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try withCommunicator(distributed: distributed) { try train(communicator: $0) }
    }

    func train(communicator: Communicator) throws {
        let root = communicator.isRoot
        var settings = try ExperimentRecipe.load(file: recipe, overrides: overrides)
        settings.biggan.weights = weights ?? settings.biggan.weights
        if settings.kind == .textToBigGAN { _ = try settings.biggan.requireWeights(source: recipe) }
        let outputPath = outputDirectory ?? ExperimentContext.defaultDirectory(recipe)
        let output = fileURL(outputPath)
        if root { try checkOutputDirectory(output, modelFile: FlowCheckpoint.flowFile, resume: resume) }
        try communicator.barrier()
        let progress: (String) -> Void = root ? { note($0) } : { _ in }
        let context = try ExperimentContext(recipe: settings, autoencoder: autoencoder.map(fileURL), progress: progress)
        context.experts.extraction = ShardedRows(communicator: communicator,
                                                 cacheDirectory: output.appendingPathComponent("pairs-cache"),
                                                 progress: progress)
        let (data, attributes) = try context.trainingPairs()
        if root {
            try ExperimentManifest(recipe: settings, latentDimension: data.dimension, attributes: attributes).save(to: output)
        }
        let trainer = try Trainer(configuration: settings.flow, data: data, outputDirectory: output, resume: resume,
                                  communicator: communicator)
        guard root else { return try runFlowTraining(trainer, settings: settings.flow, quiet: true) }
        note("training τ for \(settings.kind.rawValue): \(data.count) pairs, condition \(data.conditionDimension)-d → "
             + "latent \(data.dimension)-d, \(trainer.flow.parameterCount) parameters, \(settings.flow.steps) steps"
             + (resume ? ", resuming at step \(trainer.step)" : ""))
        try runFlowTraining(trainer, settings: settings.flow)
        let grid = output.appendingPathComponent("samples.png")
        try context.writeSampleGrid(flow: trainer.flow, to: grid)
        note("wrote \(grid.path)")
    }
}

struct ExperimentPairs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs",
        abstract: "Build a recipe's training pairs with the frozen experts into the run's cache.",
        discussion: """
        Runs the experts of `experiment train` on the recipe's training images (or captions) in \
        chunks of 2048 rows and writes them into OUTPUT/pairs-cache/ (default runs/<recipe \
        name>), where `experiment train` and `eval-experiment --regressor` find them; a killed \
        run resumes at the first missing chunk. With --distributed (under mpirun -np N) each \
        process encodes a strided share of every chunk and rank 0 gathers them in order.

        Example:
          mpirun -np 4 net2net experiment pairs configs/edges-to-image.yaml --distributed --threads 1
          net2net experiment train configs/edges-to-image.yaml
        """)

    @Argument(help: "The recipe (YAML).") var recipe: String
    @Option(name: .customLong("set"), help: "Override a key: --set key=value (repeatable).") var overrides: [String] = []
    @Option(name: .customLong("output-dir"), help: "The run directory whose cache to fill (default runs/<recipe name>).") var outputDirectory: String?
    @Option(help: "An autoencoder checkpoint other than the shipped one.") var autoencoder: String?
    @Flag(help: "Shard the experts' work over the processes of an MPI job (mpirun -np N).") var distributed = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try withCommunicator(distributed: distributed) { communicator in
            let settings = try ExperimentRecipe.load(file: recipe, overrides: overrides)
            guard settings.kind.usesImageData else {
                throw ValidationError("\(settings.kind.rawValue) samples its pairs while it trains; it has no pairs to cache")
            }
            let output = fileURL(outputDirectory ?? ExperimentContext.defaultDirectory(recipe))
            let progress: (String) -> Void = communicator.isRoot ? { note($0) } : { _ in }
            let context = try ExperimentContext(recipe: settings, autoencoder: autoencoder.map(fileURL), progress: progress)
            var extraction = ShardedRows(communicator: communicator, cacheDirectory: output.appendingPathComponent("pairs-cache"),
                                         progress: progress)
            extraction.cachesInOneProcess = true
            context.experts.extraction = extraction
            let data = try context.trainingPairs().pairs
            if communicator.isRoot {
                print("\(data.count) pairs, condition \(data.conditionDimension)-d → latent \(data.dimension)-d, in \(extraction.cacheDirectory.path)")
            }
        }
    }
}
