import Experts
import XCTest

/// Fails unless `body` throws ``ExpertError/badAsset(path:problem:)`` for a
/// path ending in `file`, with a problem that mentions every one of `words`.
func assertBadAsset(file: String, mentions words: [String], line: UInt = #line, _ body: () throws -> Void) {
    XCTAssertThrowsError(try body(), line: line) { error in
        guard case ExpertError.badAsset(let path, let problem)? = error as? ExpertError else {
            return XCTFail("expected ExpertError.badAsset, got \(error)", line: line)
        }
        XCTAssertTrue(path.hasSuffix(file), "path \(path)", line: line)
        for word in words {
            XCTAssertTrue(problem.contains(word), "'\(problem)' should mention '\(word)'", line: line)
        }
    }
}
