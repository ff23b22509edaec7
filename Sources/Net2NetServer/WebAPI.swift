import Dispatch
import Experts
import Formats
import Foundation
import Net2Net
import TensorCore

/// What each endpoint of `/api/…` does: check the request, queue the
/// computation, encode the answer. The computing is the library's
/// (`Translator`, `AttributeSwap`, `ExperimentExperts`); nothing here touches
/// the file system.
struct WebAPI: Sendable {
    let catalog: ModelCatalog
    let queue: ComputeQueue
    let configuration: ServerConfiguration
    let training: TrainingSession

    init(catalog: ModelCatalog, queue: ComputeQueue, configuration: ServerConfiguration) {
        self.catalog = catalog
        self.queue = queue
        self.configuration = configuration
        training = TrainingSession(catalog: catalog, queue: queue)
    }

    /// `POST /api/sample`: z_Θ = τ(v | Φ(prompt)), v ~ N(0, T²I) drawn from the
    /// seed. v depends on the seed and count only, so the same seed with
    /// another prompt keeps v fixed: that is translation with v fixed.
    func sample(_ request: SampleRequest) async throws -> ImagesResponse {
        let count = try checkedCount(request.count)
        let temperature = try checkedTemperature(request.temperature)
        let seed = try checkedSeed(request.seed)
        let input: ExpertInput, kind: ExperimentKind
        switch (request.prompt, request.label) {
        case (let prompt?, nil):
            input = .text([try checkedText(prompt, field: "prompt")])
            kind = .textToImage
        case (nil, let label?):
            input = .labels([try classLabel(label, field: "label")])
            kind = .labelToImage
        default:
            throw ServerError.badRequest("give one of \"prompt\" (text → image) and \"label\" (label → image)")
        }
        let catalog = self.catalog, notLoaded = self.notLoaded(kind)
        return try await timed(kind) {
            guard let translator = kind == .textToImage ? catalog.text : catalog.label?.translator else { throw notLoaded }
            let images = try translator.images(input, count: count, temperature: temperature, seed: seed)
            return ImagesResponse(experiment: kind.rawValue, images: try ImageEncoding.dataURLs(images), seed: seed,
                                  temperature: temperature, source: nil, input: nil, face: nil, milliseconds: 0)
        }
    }

    /// `POST /api/swap`: v = τ⁻¹(z | Φ(from)), z* = τ(v | Φ(to)) for z of the
    /// uploaded image (posterior mean, then draws from the seed).
    func swap(_ request: SwapRequest) async throws -> ImagesResponse {
        let count = try checkedCount(request.count)
        let seed = try checkedSeed(request.seed)
        let kind = try experiment(request.experiment ?? ExperimentKind.textToImage.rawValue)
        let target: ExpertInput, source: ExpertInput?
        switch kind {
        case .textToImage:
            target = .text([try checkedText(request.to, field: "to")])
            source = try request.from.map { .text([try checkedText($0, field: "from")]) }
        case .labelToImage:
            target = .labels([try classLabel(request.to, field: "to")])
            source = try request.from.map { .labels([try classLabel($0, field: "from")]) }
        default:
            throw ServerError.badRequest("experiment: the swap works on text-to-image and label-to-image, not \(kind.rawValue)")
        }
        let upload = try ImageEncoding.decodeUpload(request.image, field: "image", maximumPixels: configuration.maximumImagePixels)
        let catalog = self.catalog, notLoaded = self.notLoaded(kind)
        return try await timed(kind) {
            guard let swapper = kind == .textToImage ? catalog.textSwap : catalog.label else { throw notLoaded }
            var batch = ImageInput.Batch(side: 28)
            ImageInput.append(upload, name: "image", to: &batch)
            let image = ImageInput.gray(batch)
            let result = try swapper.swap(image: image, source: source, sourceName: request.from, target: target,
                                          count: count, seed: seed)
            return ImagesResponse(experiment: kind.rawValue, images: try ImageEncoding.dataURLs(result.images), seed: seed,
                                  temperature: nil, source: result.source,
                                  input: try ImageEncoding.dataURLs(image)[0], face: nil, milliseconds: 0)
        }
    }

    /// `POST /api/query`: samples for an image query (edges → image, inpainting, faces).
    func query(_ request: QueryRequest) async throws -> ImagesResponse {
        let kind = try experiment(request.experiment)
        guard kind.queriesAreImages else {
            throw ServerError.badRequest("experiment: \(kind.rawValue) takes no image queries; use /api/sample or /api/swap")
        }
        let count = try checkedCount(request.count)
        let temperature = try checkedTemperature(request.temperature)
        let seed = try checkedSeed(request.seed)
        enum Source { case upload(PNGImage), face(seed: UInt64, query: FaceQuery) }
        let source: Source
        switch (request.image, request.faceSeed) {
        case (let image?, nil):
            source = .upload(try ImageEncoding.decodeUpload(image, field: "image", maximumPixels: configuration.maximumImagePixels))
        case (nil, let faceSeed?) where kind == .ganTranslation:
            let name = request.faceQuery ?? FaceQuery.face.rawValue
            guard let query = FaceQuery(rawValue: name) else {
                throw ServerError.badRequest("face_query: one of \(FaceQuery.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name.prefix(40))'")
            }
            source = .face(seed: try checkedSeed(faceSeed), query: query)
        default:
            throw ServerError.badRequest(kind == .ganTranslation ? "give one of \"image\" (a PNG) and \"face_seed\""
                                                                 : "image: a PNG is needed")
        }
        let isQuery = request.isQuery ?? false
        let catalog = self.catalog, notLoaded = self.notLoaded(kind)
        return try await timed(kind) {
            guard let model = catalog.imageQueries[kind] else { throw notLoaded }
            let condition: Tensor, query: Tensor, face: Tensor?
            switch source {
            case .upload(let image):
                (condition, query) = try model.experts.condition(image: image, name: "image", isQuery: isQuery)
                face = nil
            case .face(let faceSeed, let faceKind):
                let made = try model.experts.face(seed: faceSeed, query: faceKind)
                (condition, query, face) = (made.condition, made.query, made.face)
            }
            let latents = try model.translator.sample(condition: condition, count: count, temperature: temperature, seed: seed)
            return ImagesResponse(experiment: kind.rawValue, images: try ImageEncoding.dataURLs(try model.translator.decode(latents)),
                                  seed: seed, temperature: temperature, source: nil,
                                  input: try ImageEncoding.dataURLs(query)[0],
                                  face: try face.map { try ImageEncoding.dataURLs($0)[0] }, milliseconds: 0)
        }
    }

    /// `GET /api/examples`: one image per fashion class from τ (seed 0), to swap.
    func examples() async throws -> ExamplesResponse {
        let catalog = self.catalog
        return try await queue.run {
            let text = catalog.text
            let captions = (0..<10).map { CaptionGenerator.plainCaption(class: $0) }
            let condition = try text.condition(.text(captions))
            let images = try text.decode(try text.sample(condition: condition, count: 1, seed: 0))
            return ExamplesResponse(captions: captions, images: try ImageEncoding.dataURLs(images))
        }
    }

    /// `POST /api/train`: starts training τ for an experiment (409 while one runs).
    /// Logs about 50 points and validates 10 times per run, for the page's plot.
    func train(_ request: TrainRequest) throws -> TrainResponse {
        let kind = try experiment(request.experiment)
        guard kind != .textToBigGAN else {
            throw ServerError.badRequest("experiment: text-to-biggan needs BigGAN weights the server does not have; train it with "
                                         + "`net2net experiment train configs/text-to-biggan.yaml --weights DIR`")
        }
        let steps = request.steps ?? 300
        guard (1...5000).contains(steps) else { throw ServerError.badRequest("steps: must be 1–5000, got \(steps)") }
        let images = request.trainImages ?? (kind == .ganTranslation ? 2000 : 3000)
        guard (200...20000).contains(images) else {
            throw ServerError.badRequest("train_images: must be 200–20000, got \(images)")
        }
        let overrides = ["steps=\(steps)", "log_every=\(max(1, steps / 50))", "validate_every=\(max(1, steps / 10))",
                         "checkpoint_every=\(steps)", kind == .ganTranslation ? "pairs=\(images)" : "train_images=\(images)"]
        try training.start(kind: kind, overrides: overrides)
        return TrainResponse(status: "started", experiment: kind.rawValue)
    }

    /// `GET /api/status`.
    func status() -> StatusResponse {
        StatusResponse(experiments: catalog.loadedExperiments.map(\.rawValue), classes: EvaluationClassifier.classNames,
                       queue: .init(capacity: queue.capacity, admitted: queue.admitted),
                       limits: .init(maximumBodyBytes: configuration.maximumBodyBytes,
                                     maximumImagePixels: configuration.maximumImagePixels,
                                     maximumCount: configuration.maximumCount,
                                     maximumPromptLength: configuration.maximumPromptLength))
    }

    // MARK: checks

    /// Runs `work` in the queue and stamps the answer with its duration.
    private func timed(_ kind: ExperimentKind, _ work: @escaping @Sendable () throws -> ImagesResponse) async throws -> ImagesResponse {
        let start = DispatchTime.now().uptimeNanoseconds
        var response = try await queue.run(work)
        response.milliseconds = Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        return response
    }

    private func checkedCount(_ count: Int?) throws -> Int {
        let value = count ?? 8
        guard (1...configuration.maximumCount).contains(value) else {
            throw ServerError.badRequest("count: must be 1–\(configuration.maximumCount), got \(value)")
        }
        return value
    }

    private func checkedSeed(_ seed: Int?) throws -> UInt64 {
        let value = seed ?? 0
        guard value >= 0 else { throw ServerError.badRequest("seed: must be a whole number ≥ 0, got \(value)") }
        return UInt64(value)
    }

    private func checkedTemperature(_ temperature: Float?) throws -> Float {
        let value = temperature ?? 1
        guard value.isFinite, (0...2).contains(value) else {
            throw ServerError.badRequest("temperature: must be 0–2, got \(value)")
        }
        return value
    }

    private func checkedText(_ text: String, field: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ServerError.badRequest("\(field): must not be empty") }
        guard trimmed.count <= configuration.maximumPromptLength else {
            throw ServerError.badRequest("\(field): at most \(configuration.maximumPromptLength) characters, got \(trimmed.count)")
        }
        return trimmed
    }

    private func classLabel(_ name: String, field: String) throws -> Int {
        do {
            return try LabelExpert.label(named: try checkedText(name, field: field))
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError.badRequest("\(field): " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
    }

    private func experiment(_ name: String) throws -> ExperimentKind {
        guard let kind = ExperimentKind(rawValue: name) else {
            throw ServerError.badRequest("experiment: unknown '\(name.prefix(60))'; known: "
                                         + ExperimentKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return kind
    }

    func notLoaded(_ kind: ExperimentKind) -> ServerError {
        .notFound("\(kind.rawValue) is not loaded: train it with `net2net experiment train configs/\(kind.rawValue).yaml` "
                  + "and start the server with --models DIR holding it as \(kind.rawValue)/")
    }
}
