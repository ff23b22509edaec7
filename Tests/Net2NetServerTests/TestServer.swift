import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Net2NetServer
import Synchronization
import XCTest

/// A `WebServer` on a free loopback port (port 0), run in a task, and a small
/// HTTP client for it. The shipped models are loaded once per process.
final class TestServer: Sendable {
    static let sharedCatalog = Result { try ModelCatalog(modelsDirectory: nil) }

    let port: Int
    let task: Task<Void, any Error>

    /// Starts a server and waits until it listens.
    static func start(queueCapacity: Int = 8, maximumBodyBytes: Int = 2 << 20,
                      catalog: ModelCatalog? = nil) async throws -> TestServer {
        var settings = ServerConfiguration(host: "127.0.0.1", port: 0)
        settings.queueCapacity = queueCapacity
        settings.maximumBodyBytes = maximumBodyBytes
        settings.quiet = true
        let server = WebServer(configuration: settings, catalog: try catalog ?? sharedCatalog.get())
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run { port in continuation.yield(port) } }
        for await port in ports { return TestServer(port: port, task: task) }
        throw URLError(.cannotConnectToHost)
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    func stop() { task.cancel() }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func request(_ method: String, _ path: String, body: Data? = nil,
                 contentType: String? = "application/json") async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 120
        if body != nil, let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers[String(describing: key).lowercased()] = String(describing: value) }
        return Answer(status: http.statusCode, headers: headers, body: data)
    }

    func post(_ path: String, json object: Any) async throws -> Answer {
        try await request("POST", path, body: try JSONSerialization.data(withJSONObject: object))
    }

    /// Sends raw bytes on a new connection and returns what came back before it closed (at most 64 KiB).
    func raw(_ bytes: [UInt8]) throws -> [UInt8] {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.EIO) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        shutdown(socket, Int32(SHUT_WR))
        var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 65536 {
            let n = recv(socket, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return received
    }
}
