import Datasets
import Experts
import Flow
import Layers
@testable import Net2Net
import TensorCore
import XCTest

/// `Translator` (Φ → τ → Λ) with small stand-in experts, and `ExpertRegistry`.
final class TranslatorTests: XCTestCase {
    /// Φ: z_Φ = the first Dc "features" of each sentence (its length, then its characters' codes).
    final class LengthEncoder: ConditionEncoder {
        let expertDescription = ExpertDescription(name: "length", role: .conditionEncoder, inputKind: .text,
                                                  dimension: 3, assets: [], summary: "test stand-in")
        var queriesPerCall = 8
        var conditionDimension: Int { 3 }
        func encode(_ input: ExpertInput) throws -> Tensor {
            try checkKind(input)
            guard case .text(let sentences) = input else { return Tensor(zeros: [0, 3]) }
            let rows = sentences.flatMap { s -> [Float] in
                let codes = s.unicodeScalars.prefix(2).map { Float($0.value % 7) / 7 }
                return [Float(s.count) / 10] + codes + Array(repeating: 0, count: 2 - codes.count)
            }
            return Tensor(shape: [sentences.count, 3], scalars: rows)
        }
    }

    /// Λ: an "image" [N, 1, 1, D] holding tanh of the latent.
    final class TanhDecoder: ImageDecoder {
        let expertDescription = ExpertDescription(name: "tanh", role: .imageDecoder, dimension: 4, imageShape: [1, 1, 4],
                                                  assets: [], summary: "test stand-in")
        let latentDimension: Int
        init(latentDimension: Int = 4) { self.latentDimension = latentDimension }
        func decode(_ latents: Tensor) throws -> Tensor {
            Tensor(shape: [latents.shape[0], 1, 1, latentDimension], scalars: latents.scalars.map { Foundation.tanh($0) })
        }
    }

    /// A conditional flow D = 4, Dc = 3 whose parameters are all perturbed, so that no block is the identity.
    func makeFlow(seed: UInt64 = 5) -> ConditionalFlow {
        let configuration = FlowConfiguration(dimension: 4, conditionDimension: 3, embeddingDimension: 4, hiddenDimension: 16,
                                              hiddenDepth: 1, blockCount: 3, conditioningHiddenDimension: 8,
                                              conditioningDepth: 1, conditionerUsesBatchNorm: false)
        let flow = ConditionalFlow(configuration: configuration, seed: seed)
        var generator = SeededGenerator(seed: seed &+ 1)
        let noise = generator.normalTensor([flow.parameters.count], standardDeviation: 0.05)
        for i in 0..<flow.parameters.count { flow.parameters.pointer[i] += noise.scalars[i] }
        return flow
    }

    func testTranslatingUnderTheSameConditionGivesTheLatentsBack() throws {
        let translator = try Translator(conditionEncoder: LengthEncoder(), flow: makeFlow(), decoder: TanhDecoder())
        var generator = SeededGenerator(seed: 3)
        let z = generator.normalTensor([5, 4])
        let c = try translator.condition(.text(["a", "bag", "a dress", "shoes", "the digit seven"]))
        let back = try translator.translate(z, from: c, to: c)
        XCTAssertEqual(back.shape, z.shape)
        for (a, b) in zip(back.scalars, z.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // Another condition moves the latents.
        let other = try translator.condition(.text(["x"]))
        let moved = try translator.translate(z, from: c, to: other)
        XCTAssertGreaterThan(zip(moved.scalars, z.scalars).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testSamplingAQueryIsEncodeThenSampleThenDecode() throws {
        let encoder = LengthEncoder(), decoder = TanhDecoder()
        let flow = makeFlow()
        let translator = try Translator(conditionEncoder: encoder, flow: flow, decoder: decoder)
        let query = ExpertInput.text(["a coat", "a sandal"])
        let latents = try translator.sample(query, count: 3, temperature: 0.8, seed: 11)
        XCTAssertEqual(latents.shape, [6, 4])
        let direct = try Translation.sample(flow: flow, condition: try encoder.encode(query), count: 3, temperature: 0.8, seed: 11)
        XCTAssertEqual(latents.scalars, direct.scalars)
        XCTAssertEqual(try translator.sample(query, count: 3, temperature: 0.8, seed: 11).scalars, latents.scalars, "same seed, same bits")
        XCTAssertNotEqual(try translator.sample(query, count: 3, temperature: 0.8, seed: 12).scalars, latents.scalars)
        let images = try translator.images(query, count: 3, temperature: 0.8, seed: 11)
        XCTAssertEqual(images.shape, [6, 1, 1, 4])
        XCTAssertEqual(images.scalars, try decoder.decode(latents).scalars)
    }

    func testMismatchedWidthsAndMissingExpertsAreErrors() throws {
        XCTAssertThrowsError(try Translator(conditionEncoder: nil, flow: makeFlow(), decoder: TanhDecoder(latentDimension: 5))) {
            XCTAssertTrue(($0 as? Net2NetError)?.localizedDescription.contains("4-d latent") ?? false, "\($0)")
        }
        let bare = try Translator(conditionEncoder: nil, flow: makeFlow(), decoder: nil)
        XCTAssertThrowsError(try bare.condition(.text(["a"])))
        XCTAssertThrowsError(try bare.decode(Tensor(zeros: [1, 4])))
        let translator = try Translator(conditionEncoder: LengthEncoder(), flow: makeFlow(), decoder: nil)
        XCTAssertThrowsError(try translator.condition(.labels([3]))) {
            XCTAssertEqual($0 as? ExpertError, .badInput("length reads text, not class label"))
        }
    }

    func testLibraryErrorsNameParametersNotFlags() throws {
        let flow = makeFlow()
        var generator = SeededGenerator(seed: 1)
        let z = generator.normalTensor([3, 4])
        XCTAssertThrowsError(try Translation.translate(flow: flow, target: z, from: generator.normalTensor([2, 3]),
                                                       to: generator.normalTensor([1, 3]))) {
            XCTAssertEqual($0 as? Net2NetError, .parameter(name: "from", problem: "has 2 rows but the target has 3"))
        }
        XCTAssertThrowsError(try Translation.translate(flow: flow, target: z, from: generator.normalTensor([3, 3]),
                                                       to: generator.normalTensor([2, 3]))) {
            guard case .parameter(let name, _)? = $0 as? Net2NetError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "to")
        }
    }

    func testTheKnownAnswerCheckRunsAndWritesItsSummary() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("known-answer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var validations = 0
        let summary = try KnownAnswerCheck.run(directory: directory, steps: 3, seed: 1) { event, entropy in
            if case .validation = event { validations += 1 }
            XCTAssertTrue(entropy.isFinite)
        }
        XCTAssertTrue(summary.contains("analytic entropy"), summary)
        XCTAssertGreaterThan(validations, 0)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("summary.txt"), encoding: .utf8), summary + "\n")
    }

    func testDigitsAreRepeatedForTraining() {
        let images = ImageDataset(images: Tensor(zeros: [3, 1, 28, 28]), classLabels: [1, 2, 3], domains: [.fashion, .digit, .fashion])
        XCTAssertEqual(ImageTrainingSetup.repeatingDigits(images, times: 1).count, 3)
        let repeated = ImageTrainingSetup.repeatingDigits(images, times: 3)
        XCTAssertEqual(repeated.count, 5)
        XCTAssertEqual(repeated.domains, [.fashion, .digit, .fashion, .digit, .digit])
    }

    func testTheShippedTextToImageCheckpointNamesItsExperts() throws {
        let translator: Translator
        do {
            translator = try Translator.experiment(at: try ShippedModels.textToImage)
        } catch let error as ExpertError {
            throw XCTSkip("MiniLM unavailable: \(error.localizedDescription)")
        }
        XCTAssertEqual(translator.conditionEncoder?.expertDescription.name, ExpertName.minilm)
        XCTAssertEqual(translator.decoder?.expertDescription.name, ExpertName.autoencoder)
        let prompt = ExpertInput.text(["a dark handbag"])
        let images = try translator.images(prompt, count: 2, seed: 3)
        XCTAssertEqual(images.shape, [2, 1, 28, 28])
        let z = try Translation.sample(flow: translator.flow, condition: try translator.condition(prompt), count: 2, seed: 3)
        XCTAssertEqual(images.scalars, try translator.decode(z).scalars)
    }

    func testUnknownExpertNamesListTheKnownOnes() {
        XCTAssertThrowsError(try ExpertRegistry.conditionEncoder(named: "resnet")) { error in
            XCTAssertEqual(error as? ExpertError,
                           .unknownExpert("resnet", role: "condition encoder",
                                          known: ["minilm", "mpnet", "label", "efficientnet-lite0", "resnet50"]))
            XCTAssertEqual(error.localizedDescription,
                           "unknown condition encoder 'resnet'; known: minilm, mpnet, label, efficientnet-lite0, resnet50")
        }
        // An expert without an asset names the weights file it needs.
        XCTAssertThrowsError(try ExpertRegistry.conditionEncoder(named: "resnet50")) { error in
            guard case .weightsRequired(let expert, let needed)? = error as? ExpertError else {
                return XCTFail("expected weightsRequired, got \(error)")
            }
            XCTAssertEqual(expert, "resnet50")
            XCTAssertTrue(needed.contains("state_dict") && needed.contains("ResNet50_Weights"), needed)
        }
        XCTAssertThrowsError(try ExpertRegistry.imageDecoder(named: "minilm")) { error in
            XCTAssertEqual(error as? ExpertError, .unknownExpert("minilm", role: "generator", known: ["dcgan-faces", "biggan", "autoencoder"]))
        }
    }

    func testEveryExperimentNamesRegisteredExperts() throws {
        let names = ExpertRegistry.entries.map(\.description.name)
        XCTAssertEqual(Set(names).count, names.count, "names are unique")
        for kind in ExperimentKind.allCases {
            let condition = try ExpertRegistry.description(named: kind.conditionExpert, roles: [.conditionEncoder])
            XCTAssertNotNil(condition.inputKind)
            let target = try ExpertRegistry.description(named: kind.targetExpert, roles: [.imageDecoder, .imageEncoder])
            // A generator read from user-supplied weights (BigGAN) learns its image shape from them.
            XCTAssertTrue(target.imageShape?.count == 3 || (target.imageShape == nil && target.weightsNeeded != nil), kind.rawValue)
            XCTAssertEqual(kind.queriesAreImages, condition.inputKind == .image)
        }
        XCTAssertEqual(ExpertRegistry.names(reading: .text), ["minilm", "mpnet"])
    }

    func testTheLabelExpertLoadsWithoutAssetsAndEncodesOneHot() throws {
        let encoder = try ExpertRegistry.conditionEncoder(named: "label")
        XCTAssertEqual(encoder.expertDescription.inputKind, .classLabel)
        XCTAssertEqual(encoder.conditionDimension, 20)
        let c = try encoder.encode(.labels([0, 17]))
        XCTAssertEqual(c.shape, [2, 20])
        XCTAssertEqual(c[0, 0], 1)
        XCTAssertEqual(c[1, 17], 1)
        XCTAssertEqual(c.scalars.reduce(0, +), 2)
        XCTAssertThrowsError(try encoder.encode(.text(["a bag"])))
    }
}
