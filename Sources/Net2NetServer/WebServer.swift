import Foundation
import Hummingbird
import Logging
import NIOCore

/// `net2net serve`: the web app and its JSON API on one HTTP/1.1 server.
///
///     GET  /                 the page (text → image, swap, sketch, inpainting, faces)
///     GET  /app.js, /app.css the page's script and style (embedded in the binary)
///     GET  /api/status       experiments loaded, classes, queue, limits
///     GET  /api/examples     one image per fashion class, to swap
///     POST /api/sample       {"prompt"|"label", "count", "seed", "temperature"}
///     POST /api/swap         {"image", "to", "from", "experiment", "count", "seed"}
///     POST /api/query        {"experiment", "image", "is_query", "count", "seed", "temperature"}
///     POST /api/train        {"experiment", "steps", "train_images"}: train τ (one at a time)
///     POST /api/train/stop   stop it; GET /api/train/events: its progress, server-sent events
///
/// Errors are `{"error": "…"}` with their status. No request path reaches the
/// file system: the page is served from strings compiled into the binary.
public struct WebServer: Sendable {
    public let configuration: ServerConfiguration
    let api: WebAPI

    public init(configuration: ServerConfiguration, catalog: ModelCatalog) {
        self.configuration = configuration
        api = WebAPI(catalog: catalog, queue: ComputeQueue(capacity: configuration.queueCapacity),
                     configuration: configuration)
    }

    /// Serves until the task is cancelled or the process gets SIGINT/SIGTERM;
    /// `onListening` hears the bound port once the server is up (the real one when port 0 was asked for).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "net2net.serve")
        logger.logLevel = configuration.quiet ? .critical : .warning
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "net2net"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(JSONErrorMiddleware())
        for asset in WebAsset.all {
            router.get(RouterPath(asset.path)) { _, _ in asset.response() }
        }
        let api = self.api, limit = configuration.maximumBodyBytes
        router.get("/api/status") { _, _ in JSONResponse.make(api.status()) }
        router.get("/api/examples") { _, _ in JSONResponse.make(try await api.examples()) }
        router.post("/api/sample") { request, _ in
            JSONResponse.make(try await api.sample(try await JSONResponse.decode(SampleRequest.self, from: request, limit: limit)))
        }
        router.post("/api/swap") { request, _ in
            JSONResponse.make(try await api.swap(try await JSONResponse.decode(SwapRequest.self, from: request, limit: limit)))
        }
        router.post("/api/query") { request, _ in
            JSONResponse.make(try await api.query(try await JSONResponse.decode(QueryRequest.self, from: request, limit: limit)))
        }
        router.post("/api/train") { request, _ in
            JSONResponse.make(try api.train(try await JSONResponse.decode(TrainRequest.self, from: request, limit: limit)),
                              status: .accepted)
        }
        router.post("/api/train/stop") { _, _ in
            try api.training.stop()
            return JSONResponse.make(TrainResponse(status: "stopping"))
        }
        router.get("/api/train/events") { _, _ in TrainingEvents.response(api.training) }
        // The other method on a known path is 405, not 404.
        for path in ["/api/sample", "/api/swap", "/api/query", "/api/train", "/api/train/stop"] {
            router.get(RouterPath(path)) { _, _ -> Response in throw ServerError.methodNotAllowed("\(path) takes POST") }
        }
        for path in ["/api/status", "/api/examples", "/api/train/events"] {
            router.post(RouterPath(path)) { _, _ -> Response in throw ServerError.methodNotAllowed("\(path) takes GET") }
        }
        return router
    }
}
