import ArgumentParser
import Datasets
import Experts
import Flow
import Formats
import Foundation
import Net2Net
import TensorCore

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: text → image with two experts that were never trained together.",
        discussion: """
        MiniLM (a sentence encoder, Φ) and our autoencoder (Λ, 28×28 fashion items and digits) \
        are fused by the conditional INN τ of models/text-to-image (or one trained here with \
        --train). The demo writes, into --output-dir:
          text-to-image.png   one row of --count samples per prompt (--prompt, repeatable)
          attribute-swap.png  real test images (top) re-expressed under another caption \
        (bottom): v = τ⁻¹(z | Φ(source caption)), z* = τ(v | Φ(target caption))
        and with --train the checkpoint it trained (checkpoint/).

        --known-answer runs the older check instead: τ on a conditional Gaussian against its \
        closed-form entropy.

        Examples:
          net2net demo
          net2net demo --prompt "a pale summer dress" --prompt "footwear for jogging" --count 12
          net2net demo --train --steps 1500
        """)

    @Option(name: .customLong("output-dir"), help: "Where the grids (and a trained checkpoint) go.")
    var outputDirectory: String = "net2net-demo"
    @Option(name: .customLong("prompt"), help: "A text prompt (repeatable; default: six examples).") var prompts: [String] = []
    @Option(help: "Samples per prompt.") var count: Int = 10
    @Option(help: "The text → image checkpoint (default: the shipped models/text-to-image).") var checkpoint: String?
    @Flag(help: "Train τ here (configs/text-to-image.yaml at a CPU size) instead of using the shipped one.") var train = false
    @Option(help: "--train: training steps (default 1500); --known-answer: 3000.") var steps: Int?
    @Option(help: "--train: training images (a seeded subset).") var trainImages: Int = 20_000
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Run the known-answer check on a conditional Gaussian instead.") var knownAnswer = false
    @OptionGroup var compute: ComputeOptions

    static let defaultPrompts = ["a pair of running shoes", "a dark handbag", "a light summer dress",
                                 "a pair of trousers", "a patterned shirt", "the digit seven"]

    func run() throws {
        try compute.apply()
        if knownAnswer { return try runKnownAnswer() }
        guard count >= 1 && count <= 64 else { throw ValidationError("--count must be in 1...64") }
        let started = Date()
        let directory = fileURL(outputDirectory)
        try AtomicFile.createDirectory(directory)
        let store = AssetStore()

        note("[1/4] experts: the MiniLM text encoder, our autoencoder, and the held-out images")
        let autoencoder = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        let experts = ExperimentExperts(kind: .textToImage, autoencoder: autoencoder, store: store,
                                        progress: { note("      \($0)") })
        _ = try experts.conditionEncoder()
        let test = try ImageDataset.fashionAndDigits(.test, store: store, progress: { note("      \($0)") })

        let flow: ConditionalFlow
        if train {
            note("[2/4] training τ on \(trainImages) captioned images (configs/text-to-image.yaml at a CPU size)")
            flow = try trainHere(experts: experts, store: store, into: directory.appendingPathComponent("checkpoint"))
        } else {
            let location = try checkpoint.map(fileURL) ?? ShippedModels.textToImage
            guard try ExperimentManifest.load(CheckpointDirectory.runDirectory(for: location))?.experiment == .textToImage else {
                throw Net2NetError.checkpoint(path: location.path, problem: "is not a text-to-image experiment (no experiment.json for text-to-image); train one with --train")
            }
            flow = try FlowCheckpoint.load(location).flow
            note("[2/4] τ: \(location.path) (\(flow.parameterCount) parameters)")
        }

        let chosen = prompts.isEmpty ? Demo.defaultPrompts : prompts
        note("[3/4] text → image: \(count) samples for each of \(chosen.count) prompts")
        let grid = directory.appendingPathComponent("text-to-image.png")
        try ExperimentGrids.promptGrid(flow: flow, experts: experts, prompts: chosen, columns: count, seed: seed, to: grid)
        for (row, prompt) in chosen.enumerated() { note("      row \(row + 1): \(prompt)") }

        note("[4/4] attribute swap: real test images re-expressed under another caption")
        let swap = directory.appendingPathComponent("attribute-swap.png")
        try writeSwapGrid(flow: flow, experts: experts, test: test, to: swap)

        note(String(format: "done in %.0f s. Outputs:", Date().timeIntervalSince(started)))
        print(grid.path)
        print(swap.path)
        if train { print(directory.appendingPathComponent("checkpoint").path) }
    }

    /// (source class, source caption, target caption) of the swap grid's columns.
    static let swaps: [(label: Int, from: String, to: String)] = [
        (6, "a shirt", "a pullover"), (0, "a t-shirt", "a dress"), (7, "a sneaker", "an ankle boot"),
        (9, "an ankle boot", "a sandal"), (1, "trousers", "a dress"), (4, "a coat", "a shirt"),
        (2, "a pullover", "a coat"), (8, "a bag", "a dark bag"), (13, "the digit three", "the digit eight"),
        (17, "the digit seven", "the digit one"),
    ]

    func writeSwapGrid(flow: ConditionalFlow, experts: ExperimentExperts, test: ImageDataset, to url: URL) throws {
        let labels = EvaluationClassifier.labels(of: test)
        let rows = Demo.swaps.map { swap in labels.firstIndex(of: swap.label)! }
        for s in Demo.swaps { note("      \(s.from) → \(s.to)") }
        try ExperimentGrids.swapGrid(flow: flow, experts: experts, images: test.subset(rows),
                                     source: try experts.embed(Demo.swaps.map(\.from)),
                                     target: try experts.embed(Demo.swaps.map(\.to)), to: url)
    }

    func trainHere(experts: ExperimentExperts, store: AssetStore, into output: URL) throws -> ConditionalFlow {
        var recipe = try ExperimentRecipe.load(file: ShippedModels.recipe("text-to-image.yaml").path)
        recipe.trainImages = trainImages
        recipe.flow.steps = steps ?? 1500
        recipe.flow.seed = seed
        recipe.flow.logEvery = max(1, recipe.flow.steps / 10)
        recipe.flow.validateEvery = recipe.flow.steps
        recipe.flow.checkpointEvery = recipe.flow.steps
        let all = try ImageDataset.fashionAndDigits(.train, store: store, progress: { note("      \($0)") })
        var generator = SeededGenerator(seed: seed)
        let images = all.subset(Array(generator.permutation(all.count).prefix(min(trainImages, all.count))).sorted())
        let attributes = ImageAttributes(fitting: images)
        // The shipped recipe's captions (vocabulary, balance).
        experts.captions = recipe.captions
        experts.balanceClasses = recipe.balanceClasses
        let data = try experts.pairs(images, attributes: attributes, captionsPerImage: recipe.captionsPerImage, seed: seed)
        try? FileManager.default.removeItem(at: output)
        try ExperimentManifest(recipe: recipe, latentDimension: experts.autoencoder.latentDimension,
                               attributes: attributes).save(to: output)
        let trainer = try Trainer(configuration: recipe.flow, data: data.pairs, outputDirectory: output)
        try trainer.run(onEvent: { event in
            if case let .progress(step, total, _, nats, rate, _) = event {
                note(String(format: "      step %5d/%d  %.4f nats/dim  %6.0f pairs/s", step, total, nats, rate))
            }
        })
        return trainer.flow
    }
}
