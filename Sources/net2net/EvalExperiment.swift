import ArgumentParser
import Datasets
import Experts
import Flow
import Formats
import Foundation
import MessagePassing
import Net2Net
import TensorCore

struct EvalExperiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-experiment",
        abstract: "Evaluate a trained experiment on the held-out images.",
        discussion: """
        Prints, for the recipe's τ: held-out NLL (nats/dim) of the test pairs; conditional accuracy \
        of decoded samples under the evaluation classifier (--samples per class); FID-F of one \
        sample per test condition against the test images (beside the FID-F of two halves of the \
        test images, the floor); sample diversity (mean pairwise RMS pixel distance within a \
        class, beside real images'); for text-to-image the accuracy on held-out free-text \
        prompts; for label-to-image the class swap against latent arithmetic; with --regressor \
        the same scores for a deterministic MLP z_Φ → z_Θ fitted on the same pairs. \
        Edges-to-image and inpainting: one sample per test image for FID-F and conditional \
        accuracy (the sample's class against the source image's), --samples samples for one \
        test image per class for diversity. gan-translation: NLL of freshly sampled pairs \
        (beside the prior's), and for --test-images held-out DCGAN faces used as queries (the \
        face, its edge map, its masked version) the EfficientNet cosine similarity of the query \
        to the DCGAN face of a τ sample, against a random DCGAN face. text-to-biggan (BigGAN's \
        weights from the recipe or --weights): NLL of freshly sampled pairs with captions from \
        held-out templates (beside the prior's), and class_accuracy, the share of τ's samples for a \
        held-out caption of each class whose class part is nearest that class's embedding (beside \
        chance). Writes the same as JSON to CHECKPOINT/evaluation.json.

        Example:
          net2net eval-experiment configs/label-to-image.yaml --json
        """)

    @Argument(help: "The recipe (YAML) the checkpoint was trained with.") var recipe: String
    @Option(help: "The experiment's checkpoint directory (default runs/<recipe name>).") var checkpoint: String?
    @Option(name: .customLong("set"), help: "Override a recipe key as it was trained: --set key=value (repeatable).") var overrides: [String] = []
    @Option(help: "An autoencoder checkpoint other than the shipped one.") var autoencoder: String?
    @Option(help: "A classifier checkpoint other than the shipped one.") var classifier: String?
    @Option(help: "Samples per class condition.") var samples: Int = 100
    @Option(help: "Evaluate on a seeded subset of this many test images (0: all 10 500); gan-translation: the number of query faces (0: 500).") var testImages: Int = 0
    @Option(help: "gan-translation and text-to-biggan: freshly sampled pairs for the held-out NLL.") var heldOutPairs: Int = 2000
    @Option(help: "text-to-biggan: BigGAN's model directory; overrides the recipe's `weights`.") var weights: String?
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Label-, text-, edges-to-image and inpainting: sample at this temperature, v ~ N(0, T²I).") var temperature: Float = 1
    @Flag(help: "text-to-image: only the held-out prompts and paraphrases (per class, with the confusion pairs).") var promptsOnly = false
    @Option(help: "text-to-image: also score your own prompts, a text file with one a line: class (0–19 or a name such as 'coat' or 'digit 7'), a tab, the prompt.") var prompts: String?
    @Flag(help: "Also fit the deterministic MLP regressor z_Φ → z_Θ on the recipe's pairs and score it.") var regressor = false
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard samples >= 2 else { throw ValidationError("--samples must be at least 2") }
        try SizeLimit.check(count: samples, valuesPerItem: EvaluationClassifier.classCount * ConvolutionalVAE.pixelCount, parameter: "--samples")
        guard heldOutPairs >= 1 else { throw ValidationError("--held-out-pairs must be at least 1") }
        guard testImages != 1 else { throw ValidationError("--test-images must be 0 or at least 2") }
        guard temperature.isFinite, temperature > 0 else { throw ValidationError("--temperature must be a positive number") }
        if prompts != nil, !promptsOnly { throw ValidationError("--prompts goes with --prompts-only") }
        let ownPrompts = try prompts.map { try HeldOutPrompt.load(fileURL($0)) }
        if let ownPrompts {
            try SizeLimit.check(count: ownPrompts.count * 20, valuesPerItem: ConvolutionalVAE.pixelCount, parameter: "--prompts (20 samples a prompt)")
        }
        var settings = try ExperimentRecipe.load(file: recipe, overrides: overrides)
        settings.biggan.weights = weights ?? settings.biggan.weights
        if settings.kind == .textToBigGAN { _ = try settings.biggan.requireWeights(source: recipe) }
        let directory = fileURL(checkpoint ?? ExperimentContext.defaultDirectory(recipe))
        guard let manifest = try ExperimentManifest.load(CheckpointDirectory.runDirectory(for: directory)) else {
            throw Net2NetError.checkpoint(path: directory.path, problem: "no \(ExperimentManifest.file); train it with `net2net experiment train \(recipe)`")
        }
        guard manifest.experiment == settings.kind else {
            throw Net2NetError.checkpoint(path: directory.path, problem: "was trained for \(manifest.experiment.rawValue), the recipe is \(settings.kind.rawValue)")
        }
        if settings.kind == .inpainting, (manifest.mask ?? "lower-half") != settings.mask {
            throw Net2NetError.checkpoint(path: directory.path, problem: "was trained with mask \(manifest.mask ?? "lower-half"), the recipe says \(settings.mask)")
        }
        if manifest.conditionExpert != settings.conditionExpert {
            throw Net2NetError.checkpoint(path: directory.path, problem: "was trained with the \(manifest.conditionExpert) expert, the recipe says \(settings.conditionExpert) (text_expert)")
        }
        if settings.kind == .textToImage, (manifest.captions ?? .templates) != settings.captions {
            throw Net2NetError.checkpoint(path: directory.path, problem: "was trained on \((manifest.captions ?? .templates).rawValue) captions, the recipe says \(settings.captions.rawValue) (captions)")
        }
        if settings.kind == .edgesToImage, (manifest.edges ?? EdgeOperator.sobel.rawValue) != settings.edges.rawValue {
            throw Net2NetError.checkpoint(path: directory.path, problem: "was trained on \(manifest.edges ?? EdgeOperator.sobel.rawValue) edges, the recipe says \(settings.edges.rawValue)")
        }
        if settings.kind == .textToBigGAN, manifest.classes != settings.biggan.classes || manifest.truncation != settings.biggan.truncation {
            throw Net2NetError.checkpoint(path: directory.path, problem: "was trained on classes \(manifest.classes.map { "\($0)" } ?? "all") at truncation \(manifest.truncation ?? 0), the recipe says \(settings.biggan.classes.map { "\($0)" } ?? "all") at \(settings.biggan.truncation)")
        }
        guard !regressor || [.labelToImage, .textToImage].contains(settings.kind) else {
            throw ValidationError("--regressor is for label-to-image and text-to-image")
        }
        let flow = try FlowCheckpoint.load(directory).flow
        let context = try ExperimentContext(recipe: settings, autoencoder: autoencoder.map(fileURL), progress: { note($0) })
        // The training pairs (for --regressor) come from the run's cache when it is complete.
        context.experts.extraction = ShardedRows(communicator: .single,
                                                 cacheDirectory: CheckpointDirectory.runDirectory(for: directory)
                                                     .appendingPathComponent("pairs-cache"),
                                                 progress: { note($0) })
        if settings.kind == .textToBigGAN {
            let evaluation = ExperimentEvaluation(flow: flow, experts: context.experts, classifier: EvaluationClassifier(),
                                                  progress: { note($0) })
            let report = try evaluation.runBigGANTranslation(heldOutPairs: heldOutPairs, samplesPerCondition: samples, seed: seed)
            return try publish(report, directory: directory) {
                print(String(format: "held-out NLL           %.4f nats/dim (%d pairs; prior N(0, I): %.4f)",
                             report.heldOutNatsPerDim, report.heldOutPairs, report.priorNatsPerDim))
                print(String(format: "class accuracy         %.3f (class part of τ's samples nearest the prompt's class; chance %.3f, %d classes, %d samples each)",
                             report.classAccuracy, report.chanceAccuracy, report.classes, report.samplesPerCondition))
            }
        }
        if settings.kind == .ganTranslation {
            let evaluation = ExperimentEvaluation(flow: flow, experts: context.experts, classifier: EvaluationClassifier(),
                                                  progress: { note($0) })
            let report = try evaluation.runFaceTranslation(queries: testImages > 0 ? testImages : 500, heldOutPairs: heldOutPairs,
                                                           samplesPerQuery: samples, seed: seed)
            return try publish(report, directory: directory) { printFaceReport(report, directory: directory) }
        }
        let classes = try EvaluationClassifier.load(classifier.map(fileURL) ?? ShippedModels.classifier).model
        let evaluation = ExperimentEvaluation(flow: flow, experts: context.experts, classifier: classes, progress: { note($0) })
        evaluation.temperature = temperature
        if promptsOnly {
            guard settings.kind == .textToImage else { throw ValidationError("--prompts-only is for text-to-image") }
            let (heldOut, paraphrases) = try evaluation.heldOutPromptReports(seed: seed)
            var reports = [heldOut, paraphrases,
                           try evaluation.prompts((0..<EvaluationClassifier.classCount).map {
                               HeldOutPrompt(CaptionGenerator.plainCaption(class: $0), label: $0)
                           }, set: "plain_captions", samplesPerPrompt: 50, seed: seed &+ 37)]
            if let ownPrompts { reports.append(try evaluation.prompts(ownPrompts, set: "file", samplesPerPrompt: 20, seed: seed &+ 41)) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(reports), as: UTF8.self))
            } else {
                reports.forEach(printPrompts)
            }
            return
        }
        let test = context.testImages(count: testImages, seed: seed)
        var regressorPairs: PairDataset? = nil
        if regressor {
            note("building the recipe's training pairs for the MLP regressor")
            regressorPairs = try context.experts.pairs(context.trainingImages, attributes: manifest.attributes,
                                                       captionsPerImage: settings.captionsPerImage, seed: settings.flow.seed).pairs
        }
        let report = try evaluation.run(test: test, train: context.train, attributes: manifest.attributes,
                                        samplesPerCondition: samples, regressorTrainingPairs: regressorPairs, seed: seed)
        try publish(report, directory: directory) { printReport(report, kind: settings.kind, directory: directory) }
    }

    func printFaceReport(_ report: FaceTranslationReport, directory: URL) {
        print("experiment \(report.experiment) (\(directory.path))")
        print(String(format: "held-out NLL           %.4f nats/dim (%d pairs); prior N(0, I) %.4f; gain %.4f",
                     report.heldOutNatsPerDim, report.heldOutPairs, report.priorNatsPerDim, report.gainOverPriorNatsPerDim))
        print(String(format: "τ face nearer in Φ     %.3f of the face queries (than a random DCGAN face)", report.faceQueriesNearerThanRandom))
        print(String(format: "FID, EfficientNet      %.2f (random DCGAN faces: %.2f)", report.fidEfficientNet, report.randomFacesFIDEfficientNet))
        print(String(format: "diversity              %.3f (%d samples per query; random DCGAN faces: %.3f)",
                     report.diversity, report.samplesPerQuery, report.randomFacesDiversity))
        for q in report.faceQueries {
            print(q.query.padding(toLength: 7, withPad: " ", startingAt: 0)
                  + String(format: "queries (%d): cos(Φ(query), Φ(τ face)) %.3f (random face %.3f); cos(Φ(source face), Φ(τ face)) %.3f (random face %.3f)",
                           q.count, q.similarity, q.randomSimilarity, q.faceSimilarity, q.randomFaceSimilarity))
        }
    }

    /// Writes `report` to CHECKPOINT/evaluation.json and prints it: as JSON with --json, else by `text`.
    func publish<Report: Encodable>(_ report: Report, directory: URL, text: () -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(report)
        // A read-only checkpoint (the shipped models of an installed copy) still gets its report printed.
        let file = directory.appendingPathComponent("evaluation.json")
        do { try AtomicFile.write(data, to: file) } catch { note("not saved: \(errorText(error))") }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        text()
    }

    func printPrompts(_ report: PromptReport) {
        print(String(format: "%@ %.3f accuracy (%d prompts × %d samples; majority right for %d)",
                     (["held_out": "held-out prompts", "paraphrases": "paraphrases", "file": "your prompts"][report.set] ?? report.set).padding(toLength: 22, withPad: " ", startingAt: 0),
                     report.accuracy, report.prompts, report.samplesPerPrompt, report.majorityCorrect))
        print("  per class: " + report.perClass.map { String(format: "%@ %.2f", $0.name, $0.accuracy) }.joined(separator: ", "))
        let names = EvaluationClassifier.classNames
        print("  most confused: " + report.confusions.prefix(5).map {
            String(format: "%@ → %@ %.2f", names[$0.expected], names[$0.predicted], $0.share)
        }.joined(separator: ", "))
    }

    func printReport(_ report: ExperimentReport, kind: ExperimentKind, directory: URL) {
        print("experiment \(report.experiment) (\(directory.path))")
        print(String(format: "held-out NLL           %.4f nats/dim (%d pairs)", report.heldOutNatsPerDim, report.heldOutPairs))
        switch kind {
        case .ganTranslation, .textToBigGAN:
            break  // their own reports (FaceTranslationReport, BigGANTranslationReport)
        case .edgesToImage, .inpainting:
            print(String(format: "conditional accuracy   %.3f (one sample per test image, its class against the source's)", report.conditionalAccuracy))
            print(String(format: "FID-F                  %.2f (real test halves: %.2f)", report.fid, report.realHalvesFID))
            print(String(format: "diversity              %.3f (%d samples per test image; real images of a class: %.3f)",
                         report.diversity, report.samplesPerCondition, report.realDiversity))
        case .labelToImage, .textToImage:
            print(String(format: "conditional accuracy   %.3f (%d samples per class)", report.conditionalAccuracy, report.samplesPerCondition))
            print(String(format: "FID-F                  %.2f (real test halves: %.2f)", report.fid, report.realHalvesFID))
            print(String(format: "diversity              %.3f (real images of a class: %.3f)", report.diversity, report.realDiversity))
        }
        if let p = report.heldOutPrompts { printPrompts(p) }
        if let p = report.paraphrases { printPrompts(p) }
        if let r = report.regressor {
            print(String(format: "MLP regressor          FID-F %.2f, diversity %.3f, conditional accuracy %.3f (τ: FID-F %.2f, diversity %.3f)",
                         r.fid, r.diversity, r.conditionalAccuracy, report.fid, report.diversity))
        }
        if let s = report.swap {
            print(String(format: "class swap (%d images) τ: target accuracy %.3f, FID-F %.2f; latent arithmetic: %.3f, FID-F %.2f",
                         s.count, s.targetAccuracy, s.fid, s.arithmeticTargetAccuracy, s.arithmeticFID))
        }
    }
}
