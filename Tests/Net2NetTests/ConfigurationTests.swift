import XCTest
@testable import Net2Net

final class ConfigurationTests: XCTestCase {
    func testYAMLAndOverrides() throws {
        let yaml = """
        hidden_dim: 256
        n_flows: 12
        conditioner_use_bn: true
        base_learning_rate: 1.0e-5
        lr_decay: cosine
        """
        let c = try TrainingConfiguration.load(yaml: yaml, overrides: ["batch_size=64", "n_flows=3", "condition=a b.npy"])
        XCTAssertEqual(c.hiddenDimension, 256)
        XCTAssertEqual(c.blockCount, 3)
        XCTAssertEqual(c.batchSize, 64)
        XCTAssertTrue(c.conditionerUsesBatchNorm)
        XCTAssertEqual(c.baseLearningRate, 1e-5)
        XCTAssertEqual(c.learningRate, Float(64 * 1e-5), accuracy: 1e-9)
        XCTAssertEqual(c.learningRateDecay, .cosine)
        XCTAssertEqual(c.condition, "a b.npy")
        XCTAssertEqual(c.embeddingDimension, 128, "defaults are the reference's")
    }

    /// Parameter averaging is on by default when the run validates and off
    /// when it does not; asked for explicitly without validation it is an
    /// error naming the key.
    func testAveragingDefaultFollowsValidation() throws {
        let defaults = try TrainingConfiguration.load(yaml: nil)
        XCTAssertNil(defaults.emaDecay)
        XCTAssertEqual(defaults.effectiveEMADecay, TrainingConfiguration.defaultEMADecay)
        XCTAssertTrue(defaults.averagesParameters)
        let unvalidated = try TrainingConfiguration.load(yaml: nil, overrides: ["validation_fraction=0"])
        XCTAssertEqual(unvalidated.effectiveEMADecay, 0)
        XCTAssertFalse(unvalidated.averagesParameters)
        XCTAssertFalse(try TrainingConfiguration.load(yaml: nil, overrides: ["ema_decay=0"]).averagesParameters)
        XCTAssertEqual(try TrainingConfiguration.load(yaml: nil, overrides: ["ema_decay=0.99"]).effectiveEMADecay, 0.99)
        XCTAssertThrowsError(try TrainingConfiguration.load(yaml: nil, overrides: ["validation_fraction=0", "ema_decay=0.99"])) { error in
            let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            XCTAssertTrue(message.contains("ema_decay needs validation"), message)
        }
    }

    /// The experiment recipes set the conditioner, the averaging and the
    /// weight decay themselves, as their τs were trained and measured, so that a change
    /// of `net2net train`'s defaults does not change them; all keep the
    /// reference's BatchNorm.
    func testExperimentRecipesPinTheirConditioner() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        let names = try FileManager.default.contentsOfDirectory(atPath: configs.path).filter { $0.hasSuffix(".yaml") }
        var experiments = 0
        for name in names {
            let path = configs.appendingPathComponent(name).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard text.contains("experiment:") else { continue }
            experiments += 1
            let keys = Set(text.split(separator: "\n").compactMap { line -> String? in
                line.hasPrefix("#") ? nil : line.split(separator: ":").first.map(String.init) })
            for key in ["conditioner_use_bn", "standardize_condition", "ema_decay", "weight_decay"] {
                XCTAssertTrue(keys.contains(key), "\(name) does not set \(key)")
            }
            let flow = try ExperimentRecipe.load(file: path).flow
            XCTAssertTrue(flow.conditionerUsesBatchNorm, name)
            XCTAssertEqual(flow.standardizesCondition, false, name)
        }
        XCTAssertGreaterThanOrEqual(experiments, 8)
    }

    func testBadConfigurationsNameTheKey() {
        func message(_ yaml: String?, _ overrides: [String] = []) -> String {
            do { _ = try TrainingConfiguration.load(yaml: yaml, source: "c.yaml", overrides: overrides); return "" }
            catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
        }
        XCTAssertTrue(message("hiden_dim: 3").contains("unknown key 'hiden_dim'"))
        XCTAssertTrue(message("hidden_dim: lots").contains("'hidden_dim' must be an integer"))
        XCTAssertTrue(message(nil, ["batch_size=1"]).contains("batch_size must be at least 2"))
        XCTAssertTrue(message(nil, ["steps"]).contains("expected key=value"))
        XCTAssertTrue(message("- a\n- b").contains("expected a mapping"))
        XCTAssertTrue(message("a: [").contains("not valid YAML"))
        XCTAssertTrue(message(nil, ["lr_decay=sometimes"]).contains("'lr_decay' must be one of"))
        XCTAssertTrue(message(nil, ["validation_fraction=1"]).contains("validation_fraction"))
        XCTAssertTrue(message(nil, ["seed=-1"]).contains("'seed' cannot be -1"), message(nil, ["seed=-1"]))
        XCTAssertTrue(message(nil, ["lr_decay=sometimes"]).contains("cosine, linear") || message(nil, ["lr_decay=sometimes"]).contains("cosine"))
    }

    /// YAML 1.1 reads a number without a dot ("5e-7") as a string; where the
    /// key is a number it is taken as one. Through the same generic reader as
    /// the image models' settings, the JSON of a configuration reads back equal.
    func testNumbersWrittenWithoutADotAndTheJSONRoundTrip() throws {
        let c = try TrainingConfiguration.load(yaml: "base_learning_rate: 5e-7\n", overrides: ["lr_final_fraction=1e-2"])
        XCTAssertEqual(c.baseLearningRate, 5e-7)
        XCTAssertEqual(c.finalLearningRateFraction, 1e-2)
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: Data(c.json().utf8)), c)
        XCTAssertThrowsError(try TrainingConfiguration.load(yaml: nil, overrides: ["condition=5e-7x", "hidden_dim=5e-7"]))
    }
}
