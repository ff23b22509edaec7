import Net2Net
import XCTest

/// The prompt report against counts worked out by hand.
final class PromptReportTests: XCTestCase {
    func testCountsPerSampleClassPromptAndConfusion() {
        let prompts = [HeldOutPrompt("a", label: 5), HeldOutPrompt("b", label: 5), HeldOutPrompt("c", label: 17)]
        // 4 samples each: prompt a → 5 5 7 7 (tie: majority is the lower label, 5),
        // b → 7 7 7 5, c → 17 19 17 17.
        let predicted = [5, 5, 7, 7, 7, 7, 7, 5, 17, 19, 17, 17]
        let report = PromptReport(set: "t", prompts: prompts, predicted: predicted, samplesPerPrompt: 4)
        XCTAssertEqual(report.accuracy, 6.0 / 12.0)
        XCTAssertEqual(report.prompts, 3)
        XCTAssertEqual(report.perPrompt.map(\.majority), [5, 7, 17])
        XCTAssertEqual(report.majorityCorrect, 2)
        XCTAssertEqual(report.perPrompt.map(\.accuracy), [0.5, 0.25, 0.75])
        XCTAssertEqual(report.perClass.map(\.label), [5, 17])
        XCTAssertEqual(report.perClass.map(\.prompts), [2, 1])
        XCTAssertEqual(report.perClass.map(\.accuracy), [3.0 / 8.0, 0.75])
        XCTAssertEqual(report.perClass[0].name, "sandal")
        XCTAssertEqual(report.confusions.map { [$0.expected, $0.predicted, $0.count] }, [[5, 7, 5], [17, 19, 1]])
        XCTAssertEqual(report.confusions[0].share, 5.0 / 8.0)
        XCTAssertEqual(report.confusions[1].share, 0.25)
    }
}
