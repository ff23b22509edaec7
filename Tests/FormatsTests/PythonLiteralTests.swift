import XCTest
@testable import Formats

/// The `.npy` header parser accepts what NumPy (any version) writes and
/// refuses anything else without evaluating it.
final class PythonLiteralTests: XCTestCase {
    func testParsesNumPyHeaders() throws {
        XCTAssertEqual(
            try PythonLiteral.parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }   \n"),
            .dictionary(["descr": .string("<f4"), "fortran_order": .boolean(false),
                         "shape": .tuple([.integer(3), .integer(4)])]))
        XCTAssertEqual(try PythonLiteral.parse("(5,)"), .tuple([.integer(5)]))
        XCTAssertEqual(try PythonLiteral.parse("()"), .tuple([]))
        XCTAssertEqual(try PythonLiteral.parse("[('a', '<f4'), None, True, -3L]"),
                       .list([.tuple([.string("a"), .string("<f4")]), .none, .boolean(true), .integer(-3)]))
        XCTAssertEqual(try PythonLiteral.parse(#"'it\'s'"#), .string("it's"))
    }

    func testRejectsWhatIsNotALiteral() {
        let bad = ["", "{'a': 1", "{'a' 1}", "{1: 2}", "__import__('os')", "(1 2)", "'open", "{'a': 1, 'a': 2}",
                   "99999999999999999999", "-", "(1,) junk", String(repeating: "(", count: 100)]
        for text in bad {
            XCTAssertThrowsError(try PythonLiteral.parse(text), "accepted \(text.prefix(20))")
        }
    }

    func testReprForMessages() throws {
        XCTAssertEqual(try PythonLiteral.parse("[('a', '<f4'), (1,), False]").repr, "[('a', '<f4'), (1,), False]")
    }
}
