import Foundation
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

    /// Files that are not prompt text: missing, not UTF-8, or far too large (refused before reading it whole).
    func testHostileFilesAreRefusedByName() throws {
        let directory = temporaryDirectory(name)
        let cases: [(String, Data?, String)] = [
            ("absent.tsv", nil, "absent.tsv: cannot read it"),
            ("latin1.tsv", Data([0x34, 0x09, 0x63, 0x61, 0x66, 0xE9, 0x0A]), "latin1.tsv: not UTF-8 text"),
            ("binary.tsv", Data([0x00, 0xFF, 0xFE, 0x80]), "binary.tsv: not UTF-8 text"),
        ]
        for (file, contents, message) in cases {
            let url = directory.appendingPathComponent(file)
            if let contents { try contents.write(to: url) }
            XCTAssertThrowsError(try HeldOutPrompt.load(url), file) { error in
                XCTAssertTrue(error.localizedDescription.hasSuffix(message) || error.localizedDescription.contains(message),
                              error.localizedDescription)
            }
        }
        // A sparse file one byte over the limit: refused by its size.
        let huge = directory.appendingPathComponent("huge.tsv")
        FileManager.default.createFile(atPath: huge.path, contents: nil)
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: UInt64(HeldOutPrompt.maximumFileBytes + 1))
        try handle.close()
        XCTAssertThrowsError(try HeldOutPrompt.load(huge)) { error in
            XCTAssertTrue(error.localizedDescription.contains("huge.tsv: larger than 16 MiB"), error.localizedDescription)
        }
        // At the limit exactly it is read (and then parsed: all zero bytes are no prompt line).
        try FileHandle(forWritingTo: huge).truncate(atOffset: UInt64(HeldOutPrompt.maximumFileBytes))
        XCTAssertThrowsError(try HeldOutPrompt.load(huge)) { error in
            XCTAssertFalse(error.localizedDescription.contains("larger than"), error.localizedDescription)
        }
        // A good file loads.
        let good = directory.appendingPathComponent("good.tsv")
        try "4\ta parka\n".write(to: good, atomically: true, encoding: .utf8)
        XCTAssertEqual(try HeldOutPrompt.load(good), [HeldOutPrompt("a parka", label: 4)])
    }
}
