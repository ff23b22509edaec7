import XCTest
import Formats
@testable import Net2Net
import TensorCore

/// Model selection while training τ: the `best` checkpoint holds the flow of
/// the lowest validation NLL seen, readers use it by default, early stopping
/// ends a run whose validation stopped improving, and resume keeps the record.
///
/// The set-up overfits on purpose (30 training pairs, a large learning rate),
/// so that validation rises after an early minimum.
final class ModelSelectionTests: XCTestCase {
    let problem = ConditionalGaussian(dimension: 4, conditionDimension: 3, seed: 3)

    func settings(patience: Int? = nil) -> TrainingConfiguration {
        var s = TrainingConfiguration()
        s.hiddenDimension = 64
        s.blockCount = 4
        s.embeddingDimension = 8
        s.conditioningHiddenDimension = 16
        s.batchSize = 10
        s.validationFraction = 0.5
        s.steps = 400
        s.validateEvery = 20
        s.checkpointEvery = 100
        s.logEvery = 1000
        s.baseLearningRate = 1e-3
        s.weightDecay = 0  // these runs overfit on purpose, for the selection to have something to choose
        s.earlyStoppingPatience = patience
        return s
    }

    func data() throws -> PairDataset {
        let pairs = problem.pairs(60, seed: 5)
        return try PairDataset(condition: pairs.condition, target: pairs.target)
    }

    /// Trains and returns the validation NLL of every validation, by step.
    func train(_ trainer: Trainer, until: Int? = nil) throws -> [(step: Int, nats: Double)] {
        var validations: [(step: Int, nats: Double)] = []
        try trainer.run(until: until) { event in
            if case let .validation(step, nats, _) = event { validations.append((step, nats)) }
        }
        return validations
    }

    func testTheBestCheckpointIsTheLowestValidationAndReadersUseIt() throws {
        let directory = temporaryDirectory()
        let trainer = try Trainer(configuration: settings(), data: try data(), outputDirectory: directory)
        let validations = try train(trainer)
        let lowest = try XCTUnwrap(validations.min { $0.nats < $1.nats })
        XCTAssertLessThan(lowest.step, 400, "the set-up must overfit for this test to mean anything")
        XCTAssertEqual(trainer.best?.step, lowest.step)
        XCTAssertEqual(trainer.best?.natsPerDimension, lowest.nats)

        // The default reader takes `best`; `run/last` is the final step.
        let best = try FlowCheckpoint.load(directory)
        let last = try FlowCheckpoint.load(directory.appendingPathComponent(CheckpointDirectory.lastSlot))
        XCTAssertEqual(best.step, lowest.step)
        XCTAssertEqual(last.step, 400)
        // Oracle: the stored flow scores its recorded validation NLL again.
        let rows = trainer.validationRows
        let again = Evaluation.natsPerDimension(flow: best.flow, target: trainer.data.target.gatherRows(rows),
                                                condition: trainer.data.condition.gatherRows(rows)).natsPerDimension
        XCTAssertEqual(again, lowest.nats, accuracy: 1e-9)
        XCTAssertEqual(Double(best.metadata[Trainer.validationMetadataKey] ?? ""), lowest.nats)
    }

    func testEarlyStoppingEndsAfterPatienceValidationsWithoutABetterOne() throws {
        let directory = temporaryDirectory()
        let trainer = try Trainer(configuration: settings(patience: 3), data: try data(), outputDirectory: directory)
        let validations = try train(trainer)
        let best = try XCTUnwrap(trainer.best)
        XCTAssertLessThan(trainer.step, 400, "did not stop early")
        // It stopped at the third validation after the best, and none of those was better.
        let after = validations.filter { $0.step > best.step }
        XCTAssertEqual(after.count, 3)
        XCTAssertTrue(after.allSatisfy { $0.nats >= best.natsPerDimension })
        XCTAssertEqual(validations.last?.step, trainer.step)
        XCTAssertEqual(try FlowCheckpoint.load(directory).step, best.step)
        XCTAssertEqual(try FlowCheckpoint.load(directory.appendingPathComponent(CheckpointDirectory.lastSlot)).step, trainer.step)
    }

    func testResumeKeepsTheBestRecordAndEndsWhereAnUninterruptedRunEnds() throws {
        let whole = try Trainer(configuration: settings(patience: 4), data: try data(), outputDirectory: temporaryDirectory("whole"))
        _ = try train(whole)

        let directory = temporaryDirectory("parts")
        let first = try Trainer(configuration: settings(patience: 4), data: try data(), outputDirectory: directory)
        _ = try train(first, until: 60)
        XCTAssertEqual(first.step, 60)
        let resumed = try Trainer(configuration: settings(patience: 4), data: try data(), outputDirectory: directory, resume: true)
        XCTAssertEqual(resumed.step, 60)
        XCTAssertEqual(resumed.best?.step, first.best?.step)
        XCTAssertEqual(resumed.best?.natsPerDimension, first.best?.natsPerDimension)
        _ = try train(resumed)
        XCTAssertEqual(resumed.step, whole.step)
        // Resuming a run that has stopped early takes no step.
        let again = try Trainer(configuration: settings(patience: 4), data: try data(), outputDirectory: directory, resume: true)
        _ = try train(again)
        XCTAssertEqual(again.step, whole.step)
        XCTAssertEqual(resumed.best?.step, whole.best?.step)
        XCTAssertEqual(resumed.best?.natsPerDimension, whole.best?.natsPerDimension)
        XCTAssertEqual(try FlowCheckpoint.load(directory).flow.parameters.array(),
                       try FlowCheckpoint.load(whole.outputDirectory!).flow.parameters.array())
    }

    /// The record both trainers keep: lower or higher is better, ties keep
    /// the earlier step, non-finite values never win, and the metadata
    /// round trip gives the same record back.
    func testTheSelectionRecord() {
        var lower = ModelSelection(higherIsBetter: false)
        XCTAssertTrue(lower.offer(1.5, at: 10))
        XCTAssertFalse(lower.offer(.nan, at: 20))
        XCTAssertFalse(lower.offer(-.infinity, at: 25))
        XCTAssertFalse(lower.offer(1.5, at: 30))
        XCTAssertFalse(lower.offer(1.6, at: 40))
        XCTAssertTrue(lower.offer(1.2, at: 50))
        XCTAssertEqual(lower.best, ModelSelection.Best(step: 50, value: 1.2))
        var higher = ModelSelection(higherIsBetter: true)
        XCTAssertTrue(higher.offer(0.5, at: 1))
        XCTAssertFalse(higher.offer(0.4, at: 2))
        XCTAssertTrue(higher.offer(0.9, at: 3))
        let metadata = higher.metadata(valueKey: "accuracy")
        XCTAssertEqual(ModelSelection.recorded(in: metadata, valueKey: "accuracy", higherIsBetter: true), higher)
        XCTAssertNil(ModelSelection.recorded(in: [:], valueKey: "accuracy", higherIsBetter: true).best)
        XCTAssertEqual(ModelSelection(higherIsBetter: false).metadata(valueKey: "v"), [:])
    }
}
