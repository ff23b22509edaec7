import Foundation
import XCTest

/// The page and its assets come from the binary, with no reference to another host.
final class PageTests: ServerTestCase {
    func testThePageAndItsAssetsAreServed() async throws {
        let page = try await server.request("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        XCTAssertTrue(page.text.contains("<script src=\"/app.js\""))
        XCTAssertTrue(page.text.contains("href=\"/app.css\""))
        XCTAssertTrue(page.headers["content-security-policy"]?.contains("default-src 'self'") ?? false)
        for (path, type) in [("/app.js", "text/javascript"), ("/app.css", "text/css")] {
            let asset = try await server.request("GET", path)
            XCTAssertEqual(asset.status, 200, path)
            XCTAssertTrue(asset.headers["content-type"]?.hasPrefix(type) ?? false, path)
            XCTAssertGreaterThan(asset.body.count, 1000, path)
            // Nothing is fetched from elsewhere: no absolute URL in any asset.
            XCTAssertFalse(asset.text.contains("http://") || asset.text.contains("https://") || asset.text.contains("//cdn"), path)
        }
        XCTAssertFalse(page.text.contains("http://") || page.text.contains("https://"))
    }

    func testStatusListsTheLoadedExperimentsAndLimits() async throws {
        let status = try await server.request("GET", "/api/status")
        XCTAssertEqual(status.status, 200)
        XCTAssertEqual(status.json["experiments"] as? [String], ["text-to-image"])
        XCTAssertEqual((status.json["classes"] as? [String])?.count, 20)
        let limits = try XCTUnwrap(status.json["limits"] as? [String: Any])
        XCTAssertEqual(limits["maximum_count"] as? Int, 64)
        XCTAssertEqual((status.json["queue"] as? [String: Any])?["capacity"] as? Int, 8)
    }

    /// Paths that look like files are never read from disk: only the three assets exist.
    func testPathsDoNotReachTheFileSystem() async throws {
        for path in ["/Package.swift", "/../Package.swift", "/%2e%2e/Package.swift", "/app.js/../../README.md",
                     "/etc/passwd", "/models/autoencoder.safetensors"] {
            let answer = try await server.request("GET", path)
            assertError(answer, 404)
        }
    }
}
