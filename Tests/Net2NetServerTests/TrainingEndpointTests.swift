import Foundation
@testable import Net2NetServer
import XCTest

/// `POST /api/train`, its server-sent events and `POST /api/train/stop`, on a
/// catalog of its own (a trained τ is installed in it).
final class TrainingEndpointTests: ServerTestCase {
    override func setUp() async throws {
        server = try await TestServer.start(catalog: try ModelCatalog(modelsDirectory: nil))
    }

    /// The `data:` events of the stream, read until the server ends it.
    func streamedEvents() async throws -> [[String: Any]] {
        let answer = try await server.request("GET", "/api/train/events")
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.headers["content-type"], "text/event-stream")
        return answer.text.components(separatedBy: "\n\n").compactMap { block in
            guard block.hasPrefix("data: ") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(block.dropFirst(6).utf8))) as? [String: Any]
        }
    }

    func testATrainingStreamsItsLossAndServesTheResult() async throws {
        let before = try await server.post("/api/sample", json: ["label": "sneaker", "count": 2])
        assertError(before, 404, mentioning: "not loaded")
        let started = try await server.post("/api/train", json: ["experiment": "label-to-image", "steps": 60, "train_images": 400])
        XCTAssertEqual(started.status, 202, started.text)
        let again = try await server.post("/api/train", json: ["experiment": "label-to-image"])
        assertError(again, 409, mentioning: "running")
        let events = try await streamedEvents()
        let types = events.compactMap { $0["type"] as? String }
        XCTAssertEqual(types.last, "done", "\(events.suffix(3))")
        let progress = events.filter { $0["type"] as? String == "progress" }
        XCTAssertGreaterThanOrEqual(progress.count, 20)          // log_every = steps / 50
        XCTAssertEqual(progress.last?["step"] as? Int, 60)
        XCTAssertTrue(progress.allSatisfy { ($0["nats_per_dim"] as? Double)?.isFinite ?? false })
        XCTAssertEqual(events.filter { $0["type"] as? String == "validation" }.count, 10)
        // The trained τ now serves label → image.
        let status = try await server.request("GET", "/api/status")
        XCTAssertEqual(status.json["experiments"] as? [String], ["text-to-image", "label-to-image"])
        let after = try await server.post("/api/sample", json: ["label": "sneaker", "count": 2])
        XCTAssertEqual(after.status, 200, after.text)
        XCTAssertEqual((after.json["images"] as? [String])?.count, 2)
    }

    func testAStopEndsTheTrainingEarly() async throws {
        let idle = try await server.post("/api/train/stop", json: [:])
        assertError(idle, 409, mentioning: "no training")
        let started = try await server.post("/api/train", json: ["experiment": "label-to-image", "steps": 5000, "train_images": 400])
        XCTAssertEqual(started.status, 202, started.text)
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let stop = try await server.post("/api/train/stop", json: [:])
        XCTAssertEqual(stop.status, 200, stop.text)
        let events = try await streamedEvents()
        let last = try XCTUnwrap(events.last)
        XCTAssertEqual(last["type"] as? String, "stopped")
        XCTAssertLessThan(try XCTUnwrap(last["step"] as? Int), 5000)
    }

    func testBadTrainingRequestsAreRefused() async throws {
        let cases: [([String: Any], String)] = [
            (["experiment": "nonsense"], "unknown"),
            (["experiment": "label-to-image", "steps": 0], "steps"),
            (["experiment": "label-to-image", "steps": 5001], "steps"),
            (["experiment": "label-to-image", "train_images": 10], "train_images"),
            (["steps": 10], "experiment"),
        ]
        for (body, field) in cases {
            assertError(try await server.post("/api/train", json: body), 400, mentioning: field)
        }
        assertError(try await server.request("GET", "/api/train"), 405, mentioning: "POST")
    }
}
