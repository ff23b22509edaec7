import Formats
import Foundation
import XCTest

/// A test case with its own server on a free port, started before each test and stopped after.
class ServerTestCase: XCTestCase {
    var server: TestServer!

    override func setUp() async throws {
        server = try await TestServer.start()
    }

    override func tearDown() async throws {
        server?.stop()
    }

    /// The PNG in a `data:image/png;base64,…` URL of an answer.
    func decodeDataURL(_ url: String, file: StaticString = #filePath, line: UInt = #line) throws -> PNGImage {
        let prefix = "data:image/png;base64,"
        XCTAssertTrue(url.hasPrefix(prefix), "not a PNG data URL: \(url.prefix(40))", file: file, line: line)
        let data = try XCTUnwrap(Data(base64Encoded: String(url.dropFirst(prefix.count))), file: file, line: line)
        return try PNGImage.decode(data, name: "answer")
    }

    /// The answer is an error: `status`, JSON `{"error": "…"}` whose message contains `mentioning`.
    func assertError(_ answer: TestServer.Answer, _ status: Int, mentioning: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(answer.status, status, "body: \(answer.text.prefix(300))", file: file, line: line)
        XCTAssertTrue(answer.headers["content-type"]?.hasPrefix("application/json") ?? false,
                      "content type \(answer.headers["content-type"] ?? "none")", file: file, line: line)
        let message = answer.json["error"] as? String
        XCTAssertNotNil(message, "no error message in \(answer.text.prefix(300))", file: file, line: line)
        if let mentioning, let message {
            XCTAssertTrue(message.contains(mentioning), "'\(message)' does not mention '\(mentioning)'", file: file, line: line)
        }
    }
}
