import Experts
import Formats
import Foundation
@testable import Net2NetServer
import XCTest

/// `GET /api/examples`, `POST /api/swap` and the image uploads they take.
final class SwapEndpointTests: ServerTestCase {
    func testASwapReExpressesTheImageUnderTheTarget() async throws {
        let examples = try await server.request("GET", "/api/examples")
        XCTAssertEqual(examples.status, 200, examples.text)
        let images = try XCTUnwrap(examples.json["images"] as? [String])
        XCTAssertEqual(images.count, 10)
        XCTAssertEqual((examples.json["captions"] as? [String])?.first, "a t-shirt")
        // Example 7 is a sneaker; re-expressed as an ankle boot, three times (three v).
        let answer = try await server.post("/api/swap", json: ["image": images[7], "to": "an ankle boot", "count": 3, "seed": 2])
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual((answer.json["images"] as? [String])?.count, 3)
        XCTAssertEqual(try decodeDataURL(try XCTUnwrap(answer.json["input"] as? String)).width, 112)
        // The classifier names the source when none is given.
        let source = try XCTUnwrap(answer.json["source"] as? String)
        XCTAssertTrue(["sneaker", "sandal", "ankle boot"].contains(source), source)
        // Swapped results are the library's AttributeSwap of the same image.
        let catalog = try TestServer.sharedCatalog.get()
        var batch = ImageInput.Batch(side: 28)
        ImageInput.append(try decodeDataURL(images[7]), name: "example", to: &batch)
        let library = try catalog.textSwap.swap(image: ImageInput.gray(batch), source: nil, target: .text(["an ankle boot"]),
                                                count: 3, seed: 2)
        XCTAssertEqual(answer.json["images"] as? [String], try ImageEncoding.dataURLs(library.images))
        XCTAssertEqual(source, library.source)
    }

    func testASourceCaptionIsUsedAsGiven() async throws {
        let examples = try await server.request("GET", "/api/examples")
        let image = try XCTUnwrap((examples.json["images"] as? [String])?[0])
        let answer = try await server.post("/api/swap", json: ["image": image, "from": "a t-shirt", "to": "a dress", "count": 1])
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.json["source"] as? String, "a t-shirt")
    }

    func testBadUploadsAreRefusedBeforeDecoding() async throws {
        let tiny = try PNGImage(width: 2, height: 2, pixels: [UInt8](repeating: 200, count: 12)).encoded()
        // A PNG whose header claims 100 000 × 100 000 pixels (no pixel data follows).
        var huge: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        huge += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0, 0, 0, 0, 0]
        let cases: [([String: Any], Int, String)] = [
            (["image": Data(huge).base64EncodedString(), "to": "a bag"], 400, "100000×100000"),
            (["image": Data("GIF89a not a png".utf8).base64EncodedString(), "to": "a bag"], 400, "PNG"),
            (["image": Data(tiny.prefix(30)).base64EncodedString(), "to": "a bag"], 400, "image"),
            (["image": "%%%", "to": "a bag"], 400, "base64"),
            (["image": "data:image/png;base64", "to": "a bag"], 400, "comma"),
            (["to": "a bag"], 400, "image"),
            (["image": tiny.base64EncodedString()], 400, "to"),
            (["image": tiny.base64EncodedString(), "to": "a bag", "experiment": "edges-to-image"], 400, "experiment"),
            (["image": tiny.base64EncodedString(), "to": "a bag", "experiment": "nonsense"], 400, "unknown"),
            (["image": tiny.base64EncodedString(), "to": "sneaker", "experiment": "label-to-image"], 404, "not loaded"),
        ]
        for (body, status, mentioning) in cases {
            let answer = try await server.post("/api/swap", json: body)
            assertError(answer, status, mentioning: mentioning)
        }
        // A small valid PNG of another size is resized and accepted.
        let answer = try await server.post("/api/swap", json: ["image": "data:image/png;base64," + tiny.base64EncodedString(),
                                                               "to": "a bag", "count": 1])
        XCTAssertEqual(answer.status, 200, answer.text)
    }

    func testImageQueriesNeedTheirModels() async throws {
        let tiny = try PNGImage(width: 28, height: 28, pixels: [UInt8](repeating: 0, count: 28 * 28 * 3)).encoded().base64EncodedString()
        for experiment in ["edges-to-image", "inpainting", "gan-translation"] {
            let answer = try await server.post("/api/query", json: ["experiment": experiment, "image": tiny])
            assertError(answer, 404, mentioning: "\(experiment) is not loaded")
        }
        let text = try await server.post("/api/query", json: ["experiment": "text-to-image", "image": tiny])
        assertError(text, 400, mentioning: "no image queries")
        let face = try await server.post("/api/query", json: ["experiment": "gan-translation", "face_seed": 3, "face_query": "edges"])
        assertError(face, 404, mentioning: "gan-translation is not loaded")
        let cases: [([String: Any], String)] = [
            (["experiment": "gan-translation", "face_seed": 3, "face_query": "nose"], "face_query"),
            (["experiment": "gan-translation", "face_seed": -1], "seed"),
            (["experiment": "gan-translation"], "face_seed"),
            (["experiment": "edges-to-image", "face_seed": 3], "image"),
            (["experiment": "edges-to-image", "image": tiny, "count": 100], "count"),
        ]
        for (body, field) in cases {
            assertError(try await server.post("/api/query", json: body), 400, mentioning: field)
        }
    }
}
