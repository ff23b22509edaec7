import Experts
import Flow
import Foundation
import Net2Net
import Synchronization

/// Training τ from the page: one training at a time, from a recipe of
/// `configs/` chosen by experiment name (no path comes from the request),
/// in memory (nothing is written), and cancellable.
///
/// The work runs on the compute queue in slices (building the pairs, then
/// the steps from one validation to the next: the trainer validates at the
/// end of every slice, so slices end where it validates anyway), so that the other pages stay answered
/// while it trains and the models are only ever used from one thread. Every
/// event is kept, so any number of listeners can follow it from the start
/// (`events(from:)`); when training ends, τ is installed in the catalog and
/// serves its experiment's page.
final class TrainingSession: Sendable {
    /// What the page plots and reports, one JSON object per server-sent event.
    struct Event: Encodable, Sendable {
        /// "note", "progress", "validation", "done", "stopped" or "failed".
        var type: String
        var step: Int?
        var totalSteps: Int?
        var natsPerDim: Double?
        var message: String?
    }

    private struct State {
        var running = false
        var stopRequested = false
        var events: [Event] = []
    }
    private let state = Mutex(State())
    let catalog: ModelCatalog
    let queue: ComputeQueue

    init(catalog: ModelCatalog, queue: ComputeQueue) {
        self.catalog = catalog
        self.queue = queue
    }

    var isRunning: Bool { state.withLock { $0.running } }

    /// Events from index `start` on, and whether training has ended.
    func events(from start: Int) -> (events: [Event], finished: Bool) {
        state.withLock { ($0.events.count > start ? Array($0.events[start...]) : [], !$0.running) }
    }

    /// Starts training `kind` from its recipe with `overrides` (`key=value`);
    /// `ServerError.conflict` while another one runs.
    func start(kind: ExperimentKind, overrides: [String]) throws {
        let recipeFile = ShippedModels.recipe("\(kind.rawValue).yaml")
        let recipe: ExperimentRecipe
        do {
            recipe = try ExperimentRecipe.load(file: recipeFile.path, overrides: overrides)
        } catch {
            throw ServerError.badRequest((error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        try state.withLock { state in
            guard !state.running else { throw ServerError.conflict("a training is running; stop it first (POST /api/train/stop)") }
            state = State(running: true, stopRequested: false, events: [])
        }
        Task { await self.train(recipe) }
    }

    /// Asks the running training to stop after its current step.
    func stop() throws {
        try state.withLock { state in
            guard state.running else { throw ServerError.conflict("no training is running") }
            state.stopRequested = true
        }
    }

    private func record(_ event: Event) { state.withLock { $0.events.append(event) } }
    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    /// A slice of work on the queue, waiting while the queue is full.
    private func slice<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        while true {
            do { return try await queue.run(work) } catch ServerError.busy { try await Task.sleep(nanoseconds: 100_000_000) }
        }
    }

    private func train(_ recipe: ExperimentRecipe) async {
        let total = recipe.flow.steps
        do {
            record(Event(type: "note", message: "building the pairs for \(recipe.kind.rawValue)"))
            let prepared = try await slice { [self] () -> Prepared in
                let context = try ExperimentContext(recipe: recipe, autoencoder: nil,
                                                    progress: { self.record(Event(type: "note", message: $0)) })
                let pairs = try context.trainingPairs().pairs
                let trainer = try Trainer(configuration: recipe.flow, data: pairs, outputDirectory: nil)
                return Prepared(context: context, trainer: trainer)
            }
            record(Event(type: "note", message: "training τ: \(prepared.trainer.flow.parameterCount) parameters, \(total) steps"))
            var finished = false
            while !finished && !stopRequested {
                finished = try await slice { [self] () -> Bool in
                    let trainer = prepared.trainer
                    var ended = false
                    try trainer.run(until: trainer.step + recipe.flow.validationInterval, shouldStop: { self.stopRequested }) { event in
                        switch event {
                        case let .progress(step, totalSteps, _, nats, _, _):
                            self.record(Event(type: "progress", step: step, totalSteps: totalSteps, natsPerDim: nats))
                        case let .validation(step, nats, _):
                            self.record(Event(type: "validation", step: step, totalSteps: total, natsPerDim: nats))
                        case .earlyStop:
                            ended = true
                        case .checkpoint, .best:
                            break
                        }
                    }
                    return ended || trainer.step >= total
                }
            }
            let step = prepared.trainer.step
            if step > 0 {
                try await slice { [self] in try catalog.install(flow: prepared.trainer.flow, experts: prepared.context.experts) }
            }
            record(Event(type: finished ? "done" : "stopped", step: step, totalSteps: total,
                         message: step > 0 ? "τ after \(step) steps now serves \(recipe.kind.rawValue)"
                                           : "stopped before the first step; nothing changed"))
        } catch {
            record(Event(type: "failed", message: (error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
        state.withLock { $0.running = false }
    }

    /// The experts and trainer of a training, handed between slices; only
    /// touched inside the queue's slices, one at a time.
    private struct Prepared: @unchecked Sendable {
        let context: ExperimentContext
        let trainer: Trainer
    }
}
