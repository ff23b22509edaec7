import XCTest
import TestSupport
@testable import Flow
import Layers
import TensorCore

/// `lossAndGradient`'s `gradientsFinished`: the ranges it reports cover the
/// parameter buffer from its end to its start, one per block (last to
/// first) and then the embedder's, and each is final when reported: its
/// values then equal, bit for bit, the gradient at the end of the pass.
final class FinishedGradientRangesTests: XCTestCase {
    func testReportedRangesAreFinalAndCoverTheBuffer() {
        for (Dc, activation) in [(3, FlowActivation.none), (0, .lrelu)] {
            let c = ConditionalFlowTests.configuration(dimension: 5, condition: Dc, hidden: 16, blocks: 3, activation: activation)
            let flow = ConditionalFlowTests.preparedFlow(c, seed: 21)
            var g = SeededGenerator(seed: 22)
            let B = 8
            let x = g.normalTensor([B, 5]).scalars
            let condition = Dc > 0 ? g.normalTensor([B, Dc]).scalars : nil
            let w = flow.makeTrainingWorkspace(batch: B)
            let gradients = FloatBuffer(count: flow.parameters.count)
            var reports: [(range: Range<Int>, values: [Float])] = []
            withOptional(condition) { cp in
                _ = flow.lossAndGradient(x: x, condition: cp, gradients: gradients, workspace: w, updateStatistics: false) {
                    range in reports.append((range, Array(UnsafeBufferPointer(start: gradients.pointer + range.lowerBound,
                                                                              count: range.count))))
                }
            }
            let what = "Dc = \(Dc), \(activation)"
            XCTAssertEqual(reports.count, 4, what)
            XCTAssertEqual(reports.first?.range.upperBound, flow.parameters.count, what)
            XCTAssertEqual(reports.last?.range.lowerBound, 0, what)
            for (later, earlier) in zip(reports.dropFirst(), reports) {
                XCTAssertEqual(later.range.upperBound, earlier.range.lowerBound, what)
            }
            // Report k holds block n−1−k: its ActNorm and every Linear of its coupling.
            for (k, block) in flow.blocks.reversed().enumerated() {
                let range = reports[k].range
                XCTAssertTrue(range.contains(block.actNorm.locOffset) && range.contains(block.actNorm.logScaleOffset), what)
                for layer in block.coupling.halves.flatMap(\.allLinear) {
                    XCTAssertTrue(range.lowerBound <= layer.parameterRange.lowerBound
                                  && layer.parameterRange.upperBound <= range.upperBound, what)
                }
            }
            XCTAssertEqual(reports.last?.range.isEmpty, Dc == 0, "the embedder's range, \(what)")
            for report in reports {
                let final = Array(UnsafeBufferPointer(start: gradients.pointer + report.range.lowerBound, count: report.range.count))
                XCTAssertEqual(report.values.map(\.bitPattern), final.map(\.bitPattern), "\(report.range), \(what)")
            }
            // The hook changes nothing: the same pass without it gives the same gradient.
            let plain = FloatBuffer(count: flow.parameters.count)
            withOptional(condition) { cp in
                _ = flow.lossAndGradient(x: x, condition: cp, gradients: plain, workspace: w, updateStatistics: false)
            }
            XCTAssertEqual(plain.array().map(\.bitPattern), gradients.array().map(\.bitPattern), what)
        }
    }
}
