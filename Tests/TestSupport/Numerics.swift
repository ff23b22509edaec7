import XCTest
import TensorCore

/// `count` standard normal Floats from `seed`, times `scale`.
public func normals(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return g.normalTensor([count], standardDeviation: scale).scalars
}

/// |actual − expected| ≤ relative·|expected| + absolute.
public func assertNear(_ actual: Float, _ expected: Double, relative: Double = 1e-5, absolute: Double = 1e-6,
                _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    let bound = relative * abs(expected) + absolute
    XCTAssertLessThanOrEqual(abs(Double(actual) - expected), bound, "\(what()): \(actual) vs \(expected)",
                             file: file, line: line)
}

/// |analytic − numeric| ≤ 1e-2·max(|analytic|, |numeric|) + absolute
/// (the absolute part covers Float32 round-off in the differences).
public func assertGradient(_ analytic: Double, _ numeric: Double, _ what: String, absolute: Double = 2e-3,
                           file: StaticString = #filePath, line: UInt = #line) {
    let bound = 1e-2 * max(abs(analytic), abs(numeric)) + absolute
    XCTAssertLessThanOrEqual(abs(analytic - numeric), bound,
                             "\(what): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
}

/// |predicted − numeric| / max(|predicted|, |numeric|, 1e-3) < relative.
public func assertClose(_ predicted: Double, _ numeric: Double, _ what: String, relative: Double = 2e-2,
                        file: StaticString = #filePath, line: UInt = #line) {
    let scale = max(abs(predicted), abs(numeric), 1e-3)
    XCTAssertLessThan(abs(predicted - numeric) / scale, relative,
                      "\(what): analytic \(predicted) vs numeric \(numeric)", file: file, line: line)
}

/// The largest |aᵢ − bᵢ|.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
