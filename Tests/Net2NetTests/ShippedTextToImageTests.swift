import Foundation
import Net2Net
import XCTest

/// The shipped text → image τ on free text it was not trained on, through
/// `eval-experiment --prompts-only`, and the user's own prompt file.
final class ShippedTextToImageTests: XCTestCase {
    var directory: URL!
    let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs/text-to-image.yaml").path

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
    }

    /// Accuracy per sample under the evaluation classifier, 20 samples a
    /// prompt: the held-out paraphrases at the 0.85 the model is held to, the
    /// first held-out set and the plain captions at what the shipped τ
    /// measured, less 0.03 for another CPU's rounding. A prompt file's
    /// classes and texts come back as given.
    func testShippedModelFollowsHeldOutPromptsAndScoresAPromptFile() throws {
        try "# two of mine\n4\ta hooded anorak\nbag\ta leather purse\n"
            .write(to: directory.appendingPathComponent("mine.tsv"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["eval-experiment", recipe, "--checkpoint", try ShippedModels.textToImage.path,
                                  "--prompts-only", "--prompts", "mine.tsv", "--json"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        let sets = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        var accuracy: [String: Double] = [:]
        for set in sets { accuracy[set["set"] as? String ?? "?"] = set["accuracy"] as? Double }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(accuracy["paraphrases"]), 0.85)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(accuracy["held_out"]), 0.78)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(accuracy["plain_captions"]), 0.87)
        let file = try XCTUnwrap(sets.first { $0["set"] as? String == "file" })
        let prompts = try XCTUnwrap(file["per_prompt"] as? [[String: Any]])
        XCTAssertEqual(prompts.map { $0["text"] as? String }, ["a hooded anorak", "a leather purse"])
        XCTAssertEqual(prompts.map { $0["label"] as? Int }, [4, 8])
    }

    func testBadPromptFilesAreRefusedByName() throws {
        try "4\ta coat\nscarf\ta scarf\n".write(to: directory.appendingPathComponent("bad.tsv"), atomically: true, encoding: .utf8)
        let shipped = try ShippedModels.textToImage.path
        assertFails(try CLI.run(["eval-experiment", recipe, "--checkpoint", shipped, "--prompts-only", "--prompts", "bad.tsv"], in: directory),
                    mentioning: ["bad.tsv: line 2: 'scarf' is not a class"])
        assertFails(try CLI.run(["eval-experiment", recipe, "--checkpoint", shipped, "--prompts-only", "--prompts", "absent.tsv"], in: directory),
                    mentioning: ["absent.tsv: cannot read it"])
        // An argument error: ArgumentParser's "Error: …" and usage, before any work.
        let alone = try CLI.run(["eval-experiment", recipe, "--checkpoint", shipped, "--prompts", "bad.tsv"], in: directory)
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("--prompts goes with --prompts-only"), alone.stderr)
    }
}
