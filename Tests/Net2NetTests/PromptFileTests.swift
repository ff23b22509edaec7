import Net2Net
import XCTest

/// A user's own prompts for `eval-experiment --prompts`: one a line, class, tab, text.
final class PromptFileTests: XCTestCase {
    func testClassesByNumberOrNameAndCommentsSkipped() throws {
        let text = "# my prompts\n4\ta parka with a hood\n\nCOAT\ta duffel coat\ndigit 7\tseven, crossed\n19\t  a nine  \n"
        let prompts = try HeldOutPrompt.parse(text, path: "mine.tsv")
        XCTAssertEqual(prompts, [HeldOutPrompt("a parka with a hood", label: 4), HeldOutPrompt("a duffel coat", label: 4),
                                 HeldOutPrompt("seven, crossed", label: 17), HeldOutPrompt("a nine", label: 19)])
        // Windows line ends and a byte-order mark, as some editors save.
        let windows = try HeldOutPrompt.parse("\u{FEFF}4\ta parka\r\nbag\ta purse\r\n", path: "mine.tsv")
        XCTAssertEqual(windows, [HeldOutPrompt("a parka", label: 4), HeldOutPrompt("a purse", label: 8)])
    }

    func testBadLinesNameTheFileAndLine() {
        let cases: [(String, String)] = [
            ("4\tcoat\n20\ttoo far\n", "mine.tsv: line 2: '20' is not a class"),
            ("a coat without a class\n", "mine.tsv: line 1: expected a class, a tab and the prompt's text"),
            ("4\t\n", "mine.tsv: line 1: expected a class, a tab and the prompt's text"),
            ("jacket\ta jacket\n", "mine.tsv: line 1: 'jacket' is not a class: give 0–19 or one of T-shirt/top, trouser"),
            ("-1\tnothing\n", "mine.tsv: line 1: '-1' is not a class"),
            ("# only a comment\n\n", "mine.tsv: no prompts"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try HeldOutPrompt.parse(text, path: "mine.tsv"), text) { error in
                XCTAssertTrue(error.localizedDescription.hasPrefix(message), "\(error.localizedDescription)")
            }
        }
    }
}
