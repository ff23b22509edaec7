import Experts
import Formats
import Foundation
@testable import Net2NetServer
import TensorCore
import XCTest

/// `POST /api/sample`: text → image through the shipped τ.
final class SampleEndpointTests: ServerTestCase {
    func testSamplesAreThePNGsOfTheLibrarysImages() async throws {
        let answer = try await server.post("/api/sample", json: ["prompt": "a dark handbag", "count": 3, "seed": 5, "temperature": 0.8])
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.json["experiment"] as? String, "text-to-image")
        XCTAssertEqual(answer.json["seed"] as? Int, 5)
        let urls = try XCTUnwrap(answer.json["images"] as? [String])
        XCTAssertEqual(urls.count, 3)
        // The same images the library makes, upscaled 4× by nearest neighbour to 112×112.
        let library = try TestServer.sharedCatalog.get().text.images(.text(["a dark handbag"]), count: 3, temperature: 0.8, seed: 5)
        for (n, url) in urls.enumerated() {
            let image = try decodeDataURL(url)
            XCTAssertEqual([image.width, image.height], [112, 112])
            let expected = PNGImage.grid(library.rows(n..<(n + 1)), columns: 1, border: 0).upscaled(by: 4)
            XCTAssertEqual(image, expected, "image \(n)")
        }
    }

    /// v depends on the seed only: the same seed under another prompt is τ(v | other prompt) with the same v,
    /// and a request repeated gives the same bytes.
    func testTheSeedFixesTheNoise() async throws {
        let first = try await server.post("/api/sample", json: ["prompt": "a sneaker", "count": 2, "seed": 9])
        let again = try await server.post("/api/sample", json: ["prompt": "a sneaker", "count": 2, "seed": 9])
        let other = try await server.post("/api/sample", json: ["prompt": "a sandal", "count": 2, "seed": 9])
        let reseeded = try await server.post("/api/sample", json: ["prompt": "a sneaker", "count": 2, "seed": 10])
        XCTAssertEqual(first.json["images"] as? [String], again.json["images"] as? [String])
        XCTAssertNotEqual(first.json["images"] as? [String], reseeded.json["images"] as? [String])
        let catalog = try TestServer.sharedCatalog.get()
        let v = Tensor(shape: [2, 64], scalars: { var g = SeededGenerator(seed: 9); return g.normalTensor([2, 64]).scalars }())
        let z = catalog.text.flow.inverse(v, condition: try catalog.text.condition(.text(["a sandal", "a sandal"]))).output
        let expected = try ImageEncoding.dataURLs(try catalog.text.decode(z))
        XCTAssertEqual(other.json["images"] as? [String], expected)
    }

    func testDefaultsFillEverythingButThePrompt() async throws {
        let answer = try await server.post("/api/sample", json: ["prompt": "the digit seven"])
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual((answer.json["images"] as? [String])?.count, 8)
        XCTAssertEqual(answer.json["temperature"] as? Double, 1)
    }

    func testBadRequestsAreJSONErrorsWithTheirStatus() async throws {
        let cases: [(Any, String)] = [
            (["count": 2], "prompt"),
            (["prompt": "   "], "prompt"),
            (["prompt": String(repeating: "a", count: 501)], "prompt"),
            (["prompt": "a bag", "count": 0], "count"),
            (["prompt": "a bag", "count": 65], "count"),
            (["prompt": "a bag", "temperature": -1], "temperature"),
            (["prompt": "a bag", "temperature": 1e30], "temperature"),
            (["prompt": "a bag", "count": "three"], "count"),
            (["prompt": "a bag", "seed": -4], "seed"),
            (["prompt": 7], "prompt"),
            (["prompt": "a bag", "label": "sneaker"], "prompt"),
            ([1, 2, 3], "body"),
        ]
        for (body, field) in cases {
            let answer = try await server.post("/api/sample", json: body)
            assertError(answer, 400, mentioning: field)
        }
        let broken = try await server.request("POST", "/api/sample", body: Data("{\"prompt\": \"a bag\"".utf8))
        assertError(broken, 400, mentioning: "JSON")
        let form = try await server.request("POST", "/api/sample", body: Data("prompt=a+bag".utf8),
                                            contentType: "application/x-www-form-urlencoded")
        assertError(form, 415, mentioning: "JSON")
        let label = try await server.post("/api/sample", json: ["label": "sneaker"])
        assertError(label, 404, mentioning: "label-to-image is not loaded")
        let get = try await server.request("GET", "/api/sample")
        assertError(get, 405, mentioning: "POST")
        let unknown = try await server.request("GET", "/api/nothing")
        assertError(unknown, 404)
    }
}
