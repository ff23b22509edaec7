import XCTest
import TensorCore

/// `count` standard normal Floats from `seed`, times `scale`.
func normals(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return g.normalTensor([count], standardDeviation: scale).scalars
}

/// |actual − expected| ≤ relative·|expected| + absolute.
func assertNear(_ actual: Float, _ expected: Double, relative: Double = 1e-5, absolute: Double = 1e-6,
                _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    let bound = relative * abs(expected) + absolute
    XCTAssertLessThanOrEqual(abs(Double(actual) - expected), bound, "\(what()): \(actual) vs \(expected)",
                             file: file, line: line)
}
