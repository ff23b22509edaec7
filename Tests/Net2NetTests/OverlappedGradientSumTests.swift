import XCTest
import Layers
import MessagePassing
@testable import Net2Net

/// How `OverlappedGradientSum` cuts a gradient into buckets as backward
/// reports finished ranges (one process: every reduction is the identity, so
/// only the cuts and the untouched values are observable here; the sums
/// themselves are checked under mpirun in DistributedTrainingTests).
final class OverlappedGradientSumTests: XCTestCase {
    /// Finished ranges of 10, 30, 5, 45 and 10 elements from the end: with
    /// buckets of at least 30, the pending part is started once it reaches
    /// 30, and what is left (the last 10) goes at `finish`.
    func testBucketsStartOnceThePendingPartReachesTheirSize() throws {
        let gradients = FloatBuffer(count: 100)
        for i in 0..<100 { gradients.pointer[i] = Float(i) }
        let sum = OverlappedGradientSum(communicator: .single, gradients: gradients, bucketElements: 30)
        let reports = [90..<100, 60..<90, 55..<60, 10..<55, 0..<10]
        var startedBeforeFinish: [[Range<Int>]] = []
        for range in reports {
            sum.finished(range)
            startedBeforeFinish.append(sum.buckets)
        }
        XCTAssertEqual(startedBeforeFinish, [[], [60..<100], [60..<100], [60..<100, 10..<60], [60..<100, 10..<60]])
        try sum.finish()
        XCTAssertEqual(sum.buckets, [60..<100, 10..<60, 0..<10])
        XCTAssertEqual(gradients.array(), (0..<100).map(Float.init))
        // The next step starts afresh; buckets of one element cut at every report.
        let each = OverlappedGradientSum(communicator: .single, gradients: gradients, bucketElements: 1)
        for _ in 0..<2 {
            for range in reports { each.finished(range) }
            try each.finish()
            XCTAssertEqual(each.buckets, reports)
        }
        // Larger than the buffer: one bucket, started at `finish`.
        let whole = OverlappedGradientSum(communicator: .single, gradients: gradients, bucketElements: 1000)
        for range in reports { whole.finished(range) }
        XCTAssertEqual(whole.buckets, [])
        try whole.finish()
        XCTAssertEqual(whole.buckets, [0..<100])
    }
}
