import Foundation
@testable import Net2NetServer
import Synchronization
import XCTest

/// Limits that keep the server up: body size, a full queue, malformed HTTP.
final class ServerSafetyTests: ServerTestCase {
    func testABodyOverTheLimitIs413() async throws {
        let small = try await TestServer.start(maximumBodyBytes: 1000)
        defer { small.stop() }
        let answer = try await small.post("/api/sample", json: ["prompt": String(repeating: "a", count: 2000)])
        assertError(answer, 413, mentioning: "1000")
        let fine = try await small.post("/api/sample", json: ["prompt": "a bag", "count": 1])
        XCTAssertEqual(fine.status, 200, fine.text)
    }

    /// With room for one request, concurrent ones are either served or refused
    /// with 503 and Retry-After; nothing else happens.
    func testAFullQueueAnswers503WithRetryAfter() async throws {
        let single = try await TestServer.start(queueCapacity: 1)
        defer { single.stop() }
        let answers = try await withThrowingTaskGroup(of: TestServer.Answer.self) { group in
            for seed in 0..<6 {
                group.addTask { try await single.post("/api/sample", json: ["prompt": "a coat", "count": 64, "seed": seed]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let refused = answers.filter { $0.status == 503 }
        XCTAssertEqual(answers.filter { $0.status == 200 }.count + refused.count, 6, answers.map(\.text).joined())
        XCTAssertGreaterThanOrEqual(answers.filter { $0.status == 200 }.count, 1)
        XCTAssertGreaterThanOrEqual(refused.count, 1)
        for answer in refused {
            assertError(answer, 503, mentioning: "busy")
            XCTAssertGreaterThanOrEqual(Int(answer.headers["retry-after"] ?? "") ?? 0, 1)
        }
    }

    func testMalformedHTTPLeavesTheServerUp() async throws {
        let garbage: [[UInt8]] = [
            Array("GARBAGE\r\n\r\n".utf8),
            Array("POST /api/sample HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{".utf8),
            Array("POST /api/sample HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8),
            [UInt8](repeating: 0xFF, count: 5000),
            Array("GET /\(String(repeating: "a", count: 20000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        ]
        for bytes in garbage {
            let reply = try server.raw(bytes)
            if !reply.isEmpty {
                let statusLine = String(decoding: reply.prefix(12), as: UTF8.self)
                XCTAssertTrue(statusLine.hasPrefix("HTTP/1.1 4"), statusLine)
            }
        }
        let status = try await server.request("GET", "/api/status")
        XCTAssertEqual(status.status, 200)
    }
}

/// The queue itself, without HTTP: first in, first out, bounded, one at a time.
final class ComputeQueueTests: XCTestCase {
    func testAdmitsUpToItsCapacityAndRunsInOrder() async throws {
        let queue = ComputeQueue(capacity: 2)
        let gate = DispatchSemaphore(value: 0)
        final class Order: Sendable { let values = Mutex<[Int]>([]) }
        let order = Order()
        async let first: Int = queue.run { gate.wait(); order.values.withLock { $0.append(1) }; return 1 }
        while queue.admitted < 1 { try await Task.sleep(nanoseconds: 1_000_000) }
        async let second: Int = queue.run { order.values.withLock { $0.append(2) }; return 2 }
        while queue.admitted < 2 { try await Task.sleep(nanoseconds: 1_000_000) }
        do {
            _ = try await queue.run { 3 }
            XCTFail("a third request was admitted")
        } catch ServerError.busy(let seconds) {
            XCTAssertGreaterThanOrEqual(seconds, 1)
        }
        gate.signal()
        let results = try await [first, second]
        XCTAssertEqual(results, [1, 2])
        XCTAssertEqual(order.values.withLock { $0 }, [1, 2])
        XCTAssertEqual(queue.admitted, 0)
        // A failing job frees its place too.
        struct Failure: Error {}
        do { _ = try await queue.run { () throws -> Int in throw Failure() }; XCTFail("no error") } catch is Failure {}
        XCTAssertEqual(queue.admitted, 0)
    }
}
