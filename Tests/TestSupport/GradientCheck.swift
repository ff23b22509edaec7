import XCTest
import TensorCore

/// Central finite differences of a scalar objective, for gradient checks.
///
/// The objective is L = Σ r ⊙ y for a fixed random r (so dL/dy = r), summed in
/// Double from a Float forward pass; the step is h = 1e-2. For the linear
/// layers (convolutions) the difference quotient is exact up to Float
/// round-off, ≈ √(#y)·1e-7·|y|/h; nonlinear layers add O(h²) truncation.
/// The check is |analytic − numeric| ≤ relative·max(|analytic|, |numeric|) + absolute.
public struct GradientCheck {
    public var step: Float = 1e-2
    public var relative: Double = 1e-3
    public var absolute: Double = 1e-3
    /// Coordinates checked per tensor (all when the tensor is smaller).
    public var maximumCoordinates = 60

    public init(step: Float = 1e-2, relative: Double = 1e-3, absolute: Double = 1e-3, maximumCoordinates: Int = 60) {
        self.step = step
        self.relative = relative
        self.absolute = absolute
        self.maximumCoordinates = maximumCoordinates
    }

    /// Σ r·y in Double.
    public static func objective(_ y: [Float], _ r: [Float]) -> Double {
        zip(y, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Compares `analytic[i]` with `(L(v + h·eᵢ) − L(v − h·eᵢ))/2h` on a seeded
    /// sample of coordinates of `values`; `evaluate` gives L for moved values.
    public func check(_ analytic: [Float], at values: [Float], _ what: String, seed: UInt64 = 1,
               file: StaticString = #filePath, line: UInt = #line, _ evaluate: ([Float]) -> Double) {
        XCTAssertEqual(analytic.count, values.count, "\(what): gradient size", file: file, line: line)
        var indices = Array(values.indices)
        if indices.count > maximumCoordinates {
            var generator = SeededGenerator(seed: seed &+ UInt64(values.count))
            indices = Array(generator.permutation(values.count).prefix(maximumCoordinates))
        }
        var failures = 0
        for i in indices {
            var moved = values
            moved[i] = values[i] + step
            let plus = evaluate(moved)
            moved[i] = values[i] - step
            let minus = evaluate(moved)
            let numeric = (plus - minus) / Double(2 * step)
            let a = Double(analytic[i])
            let bound = relative * max(abs(a), abs(numeric)) + absolute
            if !(abs(a - numeric) <= bound) {
                failures += 1
                if failures <= 3 {
                    XCTFail("\(what)[\(i)]: analytic \(a) vs numeric \(numeric)", file: file, line: line)
                }
            }
        }
        if failures > 3 { XCTFail("\(what): \(failures) of \(indices.count) coordinates differ", file: file, line: line) }
    }
}

/// Every element equal within `relative`·max(|a|, |b|) + `absolute` (for
/// sums whose order changes with the images per GEMM).
public func assertAllClose(_ a: [Float], _ b: [Float], relative: Float = 1e-5, absolute: Float = 1e-5, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): sizes", file: file, line: line)
    for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= relative * max(abs(a[i]), abs(b[i])) + absolute) {
        XCTFail("\(what)[\(i)]: \(a[i]) vs \(b[i])", file: file, line: line)
        return
    }
}
