import Datasets
import Experts
import Foundation
import TensorCore
import XCTest

/// The label expert: one-hot class vectors and class names.
final class LabelExpertTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
    }

    func testOneHotRows() throws {
        let x = try LabelExpert.encode([0, 19, 7, 7])
        XCTAssertEqual(x.shape, [4, 20])
        for (row, label) in [0, 19, 7, 7].enumerated() {
            for k in 0..<20 { XCTAssertEqual(x[row, k], k == label ? 1 : 0) }
        }
        XCTAssertEqual(try LabelExpert.encode([]).shape, [0, 20])
    }

    func testLabelsOutsideTheTwentyClassesAreErrors() {
        XCTAssertTrue(message { _ = try LabelExpert.encode([3, 20]) }.contains("label 20 (row 1) is outside 0..<20"))
        XCTAssertTrue(message { _ = try LabelExpert.encode([-1]) }.contains("label -1"))
    }

    func testDataSetsUseFashionThenDigits() throws {
        let data = ImageDataset(images: Tensor(zeros: [3, 1, 28, 28]), classLabels: [7, 7, 0],
                                domains: [.fashion, .digit, .digit])
        let x = try LabelExpert.encode(data)
        XCTAssertEqual(x[0, 7], 1)
        XCTAssertEqual(x[1, 17], 1)
        XCTAssertEqual(x[2, 10], 1)
    }

    func testClassNames() throws {
        let cases: [(String, Int)] = [
            ("T-shirt/top", 0), ("t-shirt", 0), ("Top", 0), ("trouser", 1), ("Trousers", 1), ("pullover", 2),
            ("dress", 3), ("coat", 4), ("sandals", 5), ("shirt", 6), ("Sneaker", 7), ("sneakers", 7), ("bag", 8),
            ("ankle boot", 9), ("ankle_boot", 9), ("Ankle-Boot", 9), ("digit 7", 17), ("7", 17), ("seven", 17),
            ("digit 0", 10), ("digit_zero", 10), ("  digit   3 ", 13), ("17", 17), ("10", 10), ("19", 19),
        ]
        for (name, label) in cases { XCTAssertEqual(try LabelExpert.label(named: name), label, name) }
        for (label, name) in EvaluationClassifier.classNames.enumerated() {
            XCTAssertEqual(try LabelExpert.label(named: name), label, name)
        }
        let x = try LabelExpert.encode(classNames: ["sneaker", "digit 2"])
        XCTAssertEqual(x[0, 7], 1)
        XCTAssertEqual(x[1, 12], 1)
        let problem = message { _ = try LabelExpert.label(named: "hat") }
        XCTAssertTrue(problem.contains("unknown class name 'hat'") && problem.contains("ankle boot"), problem)
        // Class numbers stop at 19.
        XCTAssertFalse(message { _ = try LabelExpert.label(named: "20") }.isEmpty)
        XCTAssertFalse(message { _ = try LabelExpert.label(named: "100") }.isEmpty)
        // A negative number is refused, not read as the digit after its sign.
        for negative in ["-1", " -7", "-19"] {
            let refusal = message { _ = try LabelExpert.label(named: negative) }
            XCTAssertTrue(refusal.contains("out of range"), "\(negative): \(refusal)")
        }
    }
}
