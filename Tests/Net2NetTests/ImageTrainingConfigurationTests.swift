import XCTest
@testable import Net2Net

final class ImageTrainingConfigurationTests: XCTestCase {
    func testDefaultsYAMLAndOverrides() throws {
        let c = try AutoencoderTrainingConfiguration.load(yaml: "latent_dim: 32\nbeta: 0.5\n", overrides: ["epochs=3"])
        XCTAssertEqual(c.latentDimension, 32)
        XCTAssertEqual(c.beta, 0.5)
        XCTAssertEqual(c.epochs, 3)
        XCTAssertEqual(c.batchSize, AutoencoderTrainingConfiguration().batchSize)
        XCTAssertNil(c.outputDirectory)
        let d = try ClassifierTrainingConfiguration.load(yaml: nil, overrides: ["output_dir=runs/c", "shift=0"])
        XCTAssertEqual(d.outputDirectory, "runs/c")
        XCTAssertEqual(d.shift, 0)
    }

    func testErrorsNameTheKey() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return error.localizedDescription }
        }
        XCTAssertTrue(message { _ = try AutoencoderTrainingConfiguration.load(yaml: "latnet_dim: 3", source: "a.yaml") }
            .contains("unknown key 'latnet_dim'"))
        XCTAssertTrue(message { _ = try AutoencoderTrainingConfiguration.load(yaml: "epochs: many", source: "a.yaml") }
            .contains("'epochs' must be an integer"))
        XCTAssertTrue(message { _ = try AutoencoderTrainingConfiguration.load(yaml: "batch_size: 1", source: "a.yaml") }
            .contains("batch_size must be at least 2"))
        XCTAssertTrue(message { _ = try ClassifierTrainingConfiguration.load(yaml: "- a\n- b", source: "c.yaml") }
            .contains("c.yaml: expected a mapping"))
        XCTAssertTrue(message { _ = try ClassifierTrainingConfiguration.load(yaml: nil, overrides: ["shift"]) }
            .contains("expected key=value"))
    }
}
