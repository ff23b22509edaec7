import XCTest
import Flow
import Formats
@testable import Net2Net
import TensorCore

/// Flows built and saved by the reference code (scripts/fixtures/make_official_flow.py,
/// Fixtures/OfficialFlow), imported here: the same v, log-determinants and
/// NLL on the same pairs, the same samples for the same noise, and clear
/// refusals of what cannot be mapped.
final class ReferenceFlowImportTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/OfficialFlow")

    func array(_ name: String) throws -> Tensor {
        try NPY.readFloat32(Self.fixtures.appendingPathComponent(name + ".npy"))
    }

    /// Largest |a − b| / (1 + |b|).
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { Double(abs($0 - $1)) / (1 + Double(abs($1))) }.max() ?? 0
    }

    func checkParity(_ name: String, file: String, activation: FlowActivation,
                     expectedConfiguration: FlowConfiguration) throws -> ReferenceFlowImport.Imported {
        let imported = try ReferenceFlowImport.load(Self.fixtures.appendingPathComponent(file), activation: activation)
        let flow = imported.flow
        XCTAssertEqual(flow.configuration, expectedConfiguration)
        XCTAssertTrue(flow.isActNormInitialized)
        let x = try array(name + "_x"), c = try array(name + "_c")
        let (z, logDet) = flow.forward(x, condition: c)
        XCTAssertLessThanOrEqual(relativeError(z.scalars, try array(name + "_z").scalars), 1e-5, "\(name): v")
        XCTAssertLessThanOrEqual(relativeError(logDet.scalars, try array(name + "_logdet").scalars), 1e-5, "\(name): logdet")
        let nll = flow.negativeLogLikelihood(x, condition: c).scalars
        let expectedNLL = try array(name + "_nll").scalars
        for (ours, theirs) in zip(nll, expectedNLL) {
            XCTAssertEqual(Double(ours), Double(theirs), accuracy: 1e-4 * abs(Double(theirs)), "\(name): NLL")
        }
        let samples = flow.inverse(try array(name + "_v"), condition: c).output
        XCTAssertLessThanOrEqual(relativeError(samples.scalars, try array(name + "_samples").scalars), 1e-5, "\(name): samples")
        return imported
    }

    func testLightningCheckpointMatchesTheReference() throws {
        let imported = try checkParity(
            "lightning_none_bn", file: "lightning_none_bn.ckpt", activation: .none,
            expectedConfiguration: FlowConfiguration(dimension: 8, conditionDimension: 6, embeddingDimension: 4,
                                                     hiddenDimension: 16, hiddenDepth: 1, blockCount: 3,
                                                     conditioningHiddenDimension: 12, conditioningDepth: 1,
                                                     conditionerUsesBatchNorm: true))
        XCTAssertEqual(imported.keyPrefix, "flow.")
        XCTAssertEqual(imported.skippedTensorCount, 2, "the two expert tensors beside the flow")
        XCTAssertEqual(imported.step, 1200)
        // The file pickles a callback class (as Lightning does): every other
        // reader refuses it; the import reads it as an inert placeholder.
        let file = Self.fixtures.appendingPathComponent("lightning_none_bn.ckpt")
        XCTAssertThrowsError(try PyTorchCheckpoint.load(file)) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("ModelCheckpoint"), "\(error)")
        }
        let lenient = try PyTorchCheckpoint.load(file, unknownGlobals: .placeholder)
        XCTAssertNotNil(lenient.root["callbacks"])
        XCTAssertTrue(lenient.tensors.contains { $0.name == "state_dict.flow.sub_layers.0.norm_layer.loc" })
    }

    func testStateDictWithTheReferenceActivationMatches() throws {
        let imported = try checkParity(
            "statedict_lrelu_plain", file: "statedict_lrelu_plain.pth", activation: .lrelu,
            expectedConfiguration: FlowConfiguration(dimension: 6, conditionDimension: 5, embeddingDimension: 3,
                                                     hiddenDimension: 10, hiddenDepth: 2, blockCount: 2,
                                                     conditioningHiddenDimension: 7, conditioningDepth: 2,
                                                     conditionerUsesBatchNorm: false, activation: .lrelu))
        XCTAssertEqual(imported.keyPrefix, "")
        XCTAssertNil(imported.step)
        // The activation matters: without it the same weights give other outputs.
        let without = try ReferenceFlowImport.load(Self.fixtures.appendingPathComponent("statedict_lrelu_plain.pth"),
                                                   activation: .none).flow
        let x = try array("statedict_lrelu_plain_x"), c = try array("statedict_lrelu_plain_c")
        XCTAssertGreaterThan(relativeError(without.forward(x, condition: c).output.scalars,
                                           try array("statedict_lrelu_plain_z").scalars), 1e-2)
    }

    /// An imported flow saved as our checkpoint loads back unchanged.
    func testImportedFlowSurvivesOurCheckpoint() throws {
        let flow = try ReferenceFlowImport.load(Self.fixtures.appendingPathComponent("statedict_lrelu_plain.pth"),
                                                activation: .lrelu).flow
        let directory = temporaryDirectory(name)
        try FlowCheckpoint.save(flow, to: directory)
        let loaded = try FlowCheckpoint.load(directory).flow
        XCTAssertEqual(loaded.configuration, flow.configuration)
        XCTAssertEqual(loaded.parameters.array(), flow.parameters.array())
        XCTAssertEqual(loaded.permutations, flow.permutations)
    }

    func testRefusalsNameTheKey() throws {
        let cases = [
            ("refuse_parallel.pth", "conditioning_layers."),
            ("refuse_extra_key.pth", "sub_layers.0.extra.weight"),
            ("refuse_negative_scale.pth", "sub_layers.0.norm_layer.scale[1]"),
            ("refuse_actnorm_embedder.pth", "embedder.main.1.loc"),
        ]
        for (file, key) in cases {
            XCTAssertThrowsError(try ReferenceFlowImport.load(Self.fixtures.appendingPathComponent(file), activation: .none),
                                 file) { error in
                let text = "\(error.localizedDescription)"
                XCTAssertTrue(text.contains(key) && text.contains(file), "\(file): \(text)")
            }
        }
        // Not a flow at all: a PyTorch file of other tensors.
        let other = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FormatsTests/Fixtures/checkpoint_zip.pth")
        XCTAssertThrowsError(try ReferenceFlowImport.load(other, activation: .none))
    }

    /// `net2net import` then `net2net eval --json`: the reference's mean NLL.
    func testImportCommandThenEval() throws {
        try CLI.requireExecutable()
        let directory = temporaryDirectory(name)
        let file = Self.fixtures.appendingPathComponent("lightning_none_bn.ckpt").path
        let imported = try CLI.run(["import", file, "--output-dir", "model"], in: directory, threads: false)
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("n_flows 3"), imported.stdout)
        let again = try CLI.run(["import", file, "--output-dir", "model"], in: directory, threads: false)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--overwrite"), again.stderr)
        let evaluated = try CLI.run(["eval", "--checkpoint", "model",
                                     "--condition", Self.fixtures.appendingPathComponent("lightning_none_bn_c.npy").path,
                                     "--target", Self.fixtures.appendingPathComponent("lightning_none_bn_x.npy").path,
                                     "--json"], in: directory)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any]
        let nll = try XCTUnwrap(object?["nll"] as? Double)
        let expected = try array("lightning_none_bn_nll").scalars.map(Double.init).reduce(0, +) / 32
        XCTAssertEqual(nll, expected, accuracy: 1e-4 * abs(expected))
        // The reference's samples for the same v, through `sample --noise`.
        let noise = Self.fixtures.appendingPathComponent("lightning_none_bn_v.npy").path
        let sampled = try CLI.run(["sample", "--checkpoint", "model", "--condition",
                                   Self.fixtures.appendingPathComponent("lightning_none_bn_c.npy").path,
                                   "--noise", noise, "--output", "samples.npy"], in: directory)
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let samples = try NPY.readFloat32(directory.appendingPathComponent("samples.npy"))
        XCTAssertLessThanOrEqual(relativeError(samples.scalars, try array("lightning_none_bn_samples").scalars), 1e-5)
        let wrongCount = try CLI.run(["sample", "--checkpoint", "model", "--condition",
                                      Self.fixtures.appendingPathComponent("lightning_none_bn_c.npy").path,
                                      "--noise", noise, "--count", "2", "--output", "samples2.npy"], in: directory)
        XCTAssertEqual(wrongCount.status, 1)
        XCTAssertTrue(wrongCount.stderr.contains(noise) && wrongCount.stderr.contains("[64, 8]"), wrongCount.stderr)
        let refused = try CLI.run(["import", Self.fixtures.appendingPathComponent("refuse_extra_key.pth").path,
                                   "--output-dir", "other"], in: directory, threads: false)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("error: ") && refused.stderr.contains("sub_layers.0.extra.weight"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("other/flow.safetensors").path))
    }
}
