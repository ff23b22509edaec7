import Foundation
import XCTest
import TestSupport
import Layers

final class ScheduleTests: XCTestCase {
    func testWarmupThenCosine() {
        let s = LearningRateSchedule(base: 2, warmupSteps: 10, decay: .cosine, totalSteps: 110, finalFraction: 0.1)
        XCTAssertEqual(s.rate(at: 0), 0.2, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 4), 1.0, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 9), 2.0, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 10), 2.0, accuracy: 1e-6)          // progress 0
        XCTAssertEqual(s.rate(at: 35), 2 * (0.1 + 0.9 * 0.5 * (1 + cos(Float.pi / 4))), accuracy: 1e-5)
        XCTAssertEqual(s.rate(at: 60), 2 * 0.55, accuracy: 1e-6)     // half way
        XCTAssertEqual(s.rate(at: 110), 0.2, accuracy: 1e-6)         // the final fraction
        XCTAssertEqual(s.rate(at: 10_000), 0.2, accuracy: 1e-6)      // and it stays there
        // Monotone after the warm-up.
        for step in 10..<110 { XCTAssertGreaterThanOrEqual(s.rate(at: step), s.rate(at: step + 1)) }
    }

    func testLinearDecay() {
        let s = LearningRateSchedule(base: 1, warmupSteps: 0, decay: .linear, totalSteps: 100, finalFraction: 0.2)
        XCTAssertEqual(s.rate(at: 0), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 25), 0.8, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 50), 0.6, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 100), 0.2, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 1000), 0.2, accuracy: 1e-6)
        let toZero = LearningRateSchedule(base: 3e-4, decay: .linear, totalSteps: 10)
        XCTAssertEqual(toZero.rate(at: 10), 0)
    }

    func testConstant() {
        let plain = LearningRateSchedule(base: 4.5e-4)
        for step in [0, 1, 100, 1_000_000] { XCTAssertEqual(plain.rate(at: step), 4.5e-4) }
        let warm = LearningRateSchedule(base: 1, warmupSteps: 4, decay: .constant, totalSteps: 100, finalFraction: 0)
        XCTAssertEqual((0..<6).map { warm.rate(at: $0) }, [0.25, 0.5, 0.75, 1, 1, 1])
        // A decay whose total does not exceed the warm-up stays constant.
        let degenerate = LearningRateSchedule(base: 1, warmupSteps: 5, decay: .cosine, totalSteps: 5)
        XCTAssertEqual(degenerate.rate(at: 50), 1)
    }

    func testCodableRoundTrip() throws {
        let s = LearningRateSchedule(base: 1e-3, warmupSteps: 3, decay: .cosine, totalSteps: 50, finalFraction: 0.05)
        let decoded = try JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(s))
        XCTAssertEqual(decoded, s)
    }

    func testClippingScale() {
        XCTAssertEqual(clippingScale(gradientNorm: 10, maxNorm: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(clippingScale(gradientNorm: 3, maxNorm: 5), 1)
        XCTAssertEqual(clippingScale(gradientNorm: 5, maxNorm: 5), 1)
        XCTAssertEqual(clippingScale(gradientNorm: 1e9, maxNorm: 0), 1, "clipping off")
        XCTAssertEqual(clippingScale(gradientNorm: 1e9, maxNorm: -1), 1, "clipping off")
        for norm in [5.001, 17.0, 1e6] {
            let scale = clippingScale(gradientNorm: norm, maxNorm: 5)
            XCTAssertLessThan(scale, 1)
            XCTAssertLessThanOrEqual(norm * Double(scale), 5 * (1 + 1e-6))
            XCTAssertGreaterThan(norm * Double(scale), 5 * (1 - 1e-5))
        }
    }
}
