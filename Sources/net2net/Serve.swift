import ArgumentParser
import Dispatch
import Foundation
import Net2NetServer
import Synchronization

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the web app and its JSON API (text → image, swaps, sketches, inpainting, faces).",
        discussion: """
        Loads the experts and τs once, then serves a page and /api/… on HTTP. It listens on \
        127.0.0.1 unless --host says otherwise. --models DIR adds the experiments trained by \
        `net2net experiment train` that DIR holds as text-to-image/, label-to-image/, \
        edges-to-image/, inpainting/ and gan-translation/ (the shipped text-to-image τ is used \
        when DIR has none). Ctrl-C stops it.

        Examples:
          net2net serve                     # then open http://127.0.0.1:8080
          net2net serve --port 9000 --models runs
          curl -s -X POST localhost:8080/api/sample -H 'Content-Type: application/json' \\
               -d '{"prompt": "a dark handbag", "count": 4, "seed": 1}'
        """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8080
    @Option(help: "Directory of experiment checkpoints (text-to-image/, label-to-image/, edges-to-image/, inpainting/, gan-translation/).")
    var models: String?
    @Option(help: "Compute requests running or waiting at once; more are answered 503 with Retry-After.")
    var queue = 8
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0–65535") }
        guard queue >= 1 else { throw ValidationError("--queue must be at least 1") }
        var settings = ServerConfiguration(host: host, port: port, modelsDirectory: models.map(fileURL))
        settings.queueCapacity = queue
        let catalog = try ModelCatalog(modelsDirectory: settings.modelsDirectory, progress: { note($0) })
        let server = WebServer(configuration: settings, catalog: catalog)
        final class Failure: Sendable { let error = Mutex<(any Error)?>(nil) }
        let failure = Failure()
        let finished = DispatchSemaphore(value: 0)
        let host = self.host
        Task {
            do {
                try await server.run { port in
                    note("serving \(catalog.loadedExperiments.map(\.rawValue).joined(separator: ", ")) on http://\(host):\(port) (Ctrl-C stops)")
                }
            } catch {
                failure.error.withLock { $0 = error }
            }
            finished.signal()
        }
        finished.wait()
        if let error = failure.error.withLock({ $0 }) { throw error }
    }
}
