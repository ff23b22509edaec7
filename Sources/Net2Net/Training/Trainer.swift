import Flow
import Foundation
import Layers
import MessagePassing
import TensorCore

/// A report from the training loop, for progress display.
public enum TrainingEvent: Sendable {
    /// Every `log_every` steps: the mean loss and nats/dim since the last report.
    case progress(step: Int, totalSteps: Int, loss: Double, natsPerDimension: Double,
                  samplesPerSecond: Double, learningRate: Float)
    /// Held-out negative log-likelihood in nats per dimension.
    case validation(step: Int, natsPerDimension: Double, count: Int)
    /// A checkpoint was written.
    case checkpoint(step: Int, directory: URL)
    /// A new best validation NLL; with an output directory, its flow is now the `best` checkpoint.
    case best(step: Int, natsPerDimension: Double)
    /// `early_stopping_patience` validations in a row brought no new best: training ends here.
    case earlyStop(step: Int, bestStep: Int, natsPerDimension: Double)
}

/// Trains a conditional flow by maximum likelihood on a `PairDataset`.
///
/// The batch order depends only on the seed and the epoch, so a run resumed
/// from a checkpoint sees exactly the batches, parameters and optimiser
/// state of an uninterrupted one, and reproduces its losses bit for bit
/// (with the same thread count).
///
/// Data-parallel (`communicator` of several processes, started by mpirun):
/// every process takes its own contiguous share of each global batch of
/// `batch_size` rows (`DataParallel.swift`), the gradient shares are summed
/// over processes, and every process applies the same update, so all hold
/// the same parameters and the losses equal a single process's up to the
/// order of floating-point additions. Rank 0 alone validates (and shares
/// the result), reports events and writes checkpoints.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let data: PairDataset
    public let flow: ConditionalFlow
    public let optimizer: Adam
    public let outputDirectory: URL?
    /// The processes sharing each batch (`Communicator.single`: this one alone).
    public let communicator: Communicator
    /// The next step to take (0-based).
    public private(set) var step = 0
    /// The training loss of every step taken by this trainer.
    public private(set) var losses: [Float] = []
    /// Model selection on validation NLL (lower is better); on resume, read
    /// back from the training state.
    var selection = ModelSelection(higherIsBetter: false)
    /// The best validation NLL so far (nats/dim) and its step.
    public var best: (step: Int, natsPerDimension: Double)? { selection.best.map { ($0.step, $0.value) } }
    let trainingRows: [Int]
    let validationRows: [Int]
    let gradients: FloatBuffer
    /// The exponential moving average of the parameters (`ema_decay`), or nil.
    let average: FloatBuffer?
    let workspace: FlowTrainingWorkspace
    let batchTarget: FloatBuffer
    let batchCondition: FloatBuffer
    /// Rows of each global batch this process computes.
    let localBatch: Int
    /// The first error of a collective inside the flow's passes (they cannot throw).
    var collectiveFailure: Error?
    /// Data-parallel: the least gradient elements summed as one nonblocking
    /// allreduce during backward (`OverlappedGradientSum`); 0 sums the whole
    /// gradient in one allreduce after backward instead.
    var gradientBucketElements = Trainer.defaultGradientBucketElements
    /// The ranges of the gradient the last step reduced as one allreduce each, in order.
    private(set) var lastGradientBuckets: [Range<Int>] = []

    /// A new run, or a resumed one when `resume` is true and `outputDirectory` holds a checkpoint.
    public init(configuration: TrainingConfiguration, data: PairDataset, outputDirectory: URL?, resume: Bool = false,
                communicator: Communicator = .single) throws {
        let problems = configuration.problems
        guard problems.isEmpty else { throw Net2NetError.configuration(problems.joined(separator: "; ")) }
        try data.checkTrainable()
        self.configuration = configuration
        self.data = data
        self.outputDirectory = outputDirectory
        self.communicator = communicator
        guard configuration.batchSize % communicator.size == 0 else {
            throw Net2NetError.configuration("batch_size \(configuration.batchSize) does not split evenly over \(communicator.size) processes; choose a multiple of \(communicator.size)")
        }
        localBatch = configuration.batchSize / communicator.size
        (trainingRows, validationRows) = data.split(validationFraction: configuration.validationFraction, seed: configuration.seed)
        guard trainingRows.count >= configuration.batchSize else {
            throw Net2NetError.configuration("batch_size \(configuration.batchSize) is larger than the \(trainingRows.count) training pairs (after holding out validation_fraction \(configuration.validationFraction) of \(data.count))")
        }
        let architecture = configuration.flowConfiguration(dimension: data.dimension, conditionDimension: data.conditionDimension)
        guard architecture.problems.isEmpty else {
            throw Net2NetError.configuration(architecture.problems.joined(separator: "; "))
        }
        let parameterCount = ConditionalFlow.layouts(for: architecture).parameters.count
        guard parameterCount <= Trainer.maximumParameterCount else {
            throw Net2NetError.configuration("the flow would have \(parameterCount) parameters, more than the \(Trainer.maximumParameterCount) a trainer allocates (with Adam's moments and the gradients, 16 bytes each); lower hidden_dim, hidden_depth or n_flows")
        }
        if resume {
            guard let outputDirectory else { throw Net2NetError.configuration("resuming needs an output directory") }
            let source = CheckpointDirectory.modelDirectory(for: outputDirectory, slot: CheckpointDirectory.lastSlot)
            let loaded = try FlowCheckpoint.load(source)
            guard loaded.flow.configuration == architecture else {
                throw Net2NetError.checkpoint(path: outputDirectory.path,
                                              problem: "the checkpoint's architecture differs from this configuration and data (checkpoint vs now): \(loaded.flow.configuration.differences(from: architecture)); give the checkpoint's values (e.g. --set key=value) to resume it")
            }
            flow = loaded.flow
            optimizer = Adam(parameterCount: flow.parameters.count)
            let state = try FlowCheckpoint.loadState(into: optimizer, from: source)
            guard state.step == loaded.step else {
                throw Net2NetError.checkpoint(path: source.path,
                                              problem: "flow (step \(loaded.step)) and training state (step \(state.step)) disagree; this directory was written before checkpoints were atomic and its run was interrupted between the two writes — delete the directory or train afresh")
            }
            step = state.step
            selection = ModelSelection.recorded(in: state.metadata, valueKey: Trainer.validationMetadataKey, higherIsBetter: false)
            // A run that starts averaging when resumed starts from the current parameters.
            average = configuration.averagesParameters ? (state.average ?? flow.parameters.copy()) : nil
        } else {
            let fresh = ConditionalFlow(configuration: architecture, seed: configuration.seed)
            if let embedder = fresh.embedder, embedder.standardizes {
                let rows = trainingRows
                data.condition.gatherRows(rows).withUnsafeBufferPointer { c in
                    embedder.setStandardization(from: c.baseAddress!, count: rows.count, buffers: fresh.buffers.pointer)
                }
            }
            flow = fresh
            optimizer = Adam(parameterCount: flow.parameters.count)
            average = configuration.averagesParameters ? flow.parameters.copy() : nil
        }
        // Weight decay shrinks the weight matrices only: decaying ActNorm's
        // data-initialised loc and log-scale, BatchNorm's affine or the biases
        // would pull the flow away from standardising its input.
        optimizer.undecayedRanges = flow.layout.vectorRanges
        gradients = FloatBuffer(count: flow.parameters.count)
        workspace = flow.makeTrainingWorkspace(batch: localBatch)
        batchTarget = FloatBuffer(count: localBatch * data.dimension)
        batchCondition = FloatBuffer(count: localBatch * data.conditionDimension)
    }

    /// The most parameters a trainer allocates (4 GiB of Float32 each for the
    /// parameters, the gradients and every Adam moment).
    public static let maximumParameterCount = 1 << 30

    var stepsPerEpoch: Int { trainingRows.count / configuration.batchSize }

    /// The decoupled weight decay in effect: `weight_decay`, or when unset one
    /// that scales with 1 / the training pairs (`TrainingConfiguration.effectiveWeightDecay`).
    public var weightDecay: Double { configuration.effectiveWeightDecay(trainingPairs: trainingRows.count) }

    /// The training rows of `epoch`, in a seeded order that depends only on (seed, epoch).
    func epochOrder(_ epoch: Int) -> [Int] {
        SeededGenerator.epochOrder(count: trainingRows.count, seed: configuration.seed, epoch: epoch).map { trainingRows[$0] }
    }

    /// The condition noise of `step`: a normal vector for the whole global
    /// batch from a stream that depends only on (seed, step), of which this
    /// process adds its own rows; so resumed and data-parallel runs see the
    /// same noise as one uninterrupted process.
    func addConditionNoise(step: Int, standardDeviation: Float) {
        let Dc = data.conditionDimension, B = configuration.batchSize
        var generator = SeededGenerator(seed: (configuration.seed ^ 0x5EED_C0DE_0000_0000) &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(step + 1))
        var noise = [Float](repeating: 0, count: B * Dc)
        noise.withUnsafeMutableBufferPointer { generator.fillNormal($0, standardDeviation: standardDeviation) }
        let first = communicator.rank * localBatch * Dc
        noise.withUnsafeBufferPointer { n in
            for i in 0..<(localBatch * Dc) { batchCondition.pointer[i] += n[first + i] }
        }
    }

    /// Runs until `configuration.steps` (or `until`, if smaller) and writes
    /// the final checkpoint. `shouldStop` is polled every step (for
    /// interrupts): when it returns true a checkpoint is written and the
    /// loop returns early. While it runs, the output directory is locked
    /// (`CheckpointLock`); what killed writers left there is removed first.
    public func run(until lastStep: Int? = nil, shouldStop: () -> Bool = { false },
                    onEvent: (TrainingEvent) -> Void = { _ in }) throws {
        let writer = communicator.isRoot ? outputDirectory : nil
        let lock = try writer.map { try CheckpointLock(directory: $0) }
        defer { lock?.release() }
        if let writer { CheckpointDirectory(writer).removeStale() }
        try communicator.barrier()
        let shard = communicator.usesMPI ? batchShard() : nil
        let overlap = shard != nil && gradientBucketElements > 0
            ? OverlappedGradientSum(communicator: communicator, gradients: gradients, bucketElements: gradientBucketElements)
            : nil
        let onEvent = communicator.isRoot ? onEvent : { _ in }
        if let best, let patience = configuration.earlyStoppingPatience, patience > 0,
           validationsSince(best.step) >= patience {
            // Resuming a run that stopped early: an uninterrupted run ends here too.
            onEvent(.earlyStop(step: step, bestStep: best.step, natsPerDimension: best.natsPerDimension))
            return
        }
        let end = min(lastStep ?? configuration.steps, configuration.steps)
        let B = configuration.batchSize, D = data.dimension, Dc = data.conditionDimension
        let firstRow = communicator.rank * localBatch
        let schedule = configuration.schedule
        var order: [Int] = []
        var orderEpoch = -1
        var windowLoss = 0.0, windowSteps = 0
        var windowStart = Date()
        while step < end {
            let epoch = step / stepsPerEpoch, position = step % stepsPerEpoch
            if epoch != orderEpoch { order = epochOrder(epoch); orderEpoch = epoch }
            let rows = order[(position * B + firstRow)..<(position * B + firstRow + localBatch)]
            data.target.withUnsafeBufferPointer { t in
                data.condition.withUnsafeBufferPointer { c in
                    for (i, row) in rows.enumerated() {
                        (batchTarget.pointer + i * D).update(from: t.baseAddress! + row * D, count: D)
                        (batchCondition.pointer + i * Dc).update(from: c.baseAddress! + row * Dc, count: Dc)
                    }
                }
            }
            if let noise = configuration.conditionNoise, noise > 0 { addConditionNoise(step: step, standardDeviation: Float(noise)) }
            // Without clipping, the optimiser step is applied inside backward,
            // layer by layer while each gradient is in cache (the same
            // parameters as a separate update). Clipping needs the whole
            // gradient's norm first, so it updates afterwards.
            // A sharded gradient is summed over processes first, so it updates afterwards too.
            let clipping = configuration.gradientClip > 0
            // Decoupled weight decay multiplies every parameter after its update, in the same pass.
            let decay = 1 - schedule.rate(at: step) * Float(weightDecay)
            let fusedUpdate = clipping || shard != nil ? nil : optimizer.beginStep(parameters: flow.parameters, gradients: gradients,
                                                                   learningRate: schedule.rate(at: step), decay: decay)
            let result = flow.lossAndGradient(x: batchTarget.pointer, condition: batchCondition.pointer,
                                              gradients: gradients, workspace: workspace, applying: fusedUpdate,
                                              shard: shard, gradientsFinished: overlap.map { $0.finished })
            if shard != nil {
                try sumGradientsOverProcesses(overlap)
                lastGradientBuckets = overlap?.buckets ?? [0..<gradients.count]
            }
            guard result.loss.isFinite else {
                throw Net2NetError.training(nanMessage("the loss became \(result.loss)", step: step))
            }
            let squaredNorm: Double
            if let fusedUpdate {
                squaredNorm = fusedUpdate.squaredGradientSum
            } else {
                let norm = Vector.sumOfSquares(gradients.pointer, count: gradients.count).squareRoot()
                let scale = clippingScale(gradientNorm: norm, maxNorm: Float(configuration.gradientClip))
                squaredNorm = optimizer.update(parameters: flow.parameters, gradients: gradients,
                                               learningRate: schedule.rate(at: step), gradientScale: scale, decay: decay)
            }
            guard squaredNorm.isFinite else {
                throw Net2NetError.training(nanMessage("the gradient became non-finite", step: step))
            }
            if let average { updateAverage(average, afterUpdate: step) }
            losses.append(result.loss)
            step += 1
            windowLoss += Double(result.loss)
            windowSteps += 1
            if step % configuration.logEvery == 0 || step == end {
                let elapsed = Date().timeIntervalSince(windowStart)
                let mean = windowLoss / Double(windowSteps)
                onEvent(.progress(step: step, totalSteps: configuration.steps, loss: mean,
                                  natsPerDimension: flow.natsPerDimension(loss: mean),
                                  samplesPerSecond: Double(windowSteps * B) / max(elapsed, 1e-9),
                                  learningRate: schedule.rate(at: step - 1)))
                windowLoss = 0; windowSteps = 0; windowStart = Date()
            }
            var stopEarly = false
            if !validationRows.isEmpty && (step % configuration.validationInterval == 0 || step == end) {
                // With averaging, the averaged parameters are validated and kept as `best`.
                let (nats, isBest) = try withAveragedParameters { () throws -> (Double, Bool) in
                    let nats = try sharedFromRoot(communicator.isRoot ? validationNatsPerDimension() : 0)
                    let isBest = selection.offer(nats, at: step)
                    if isBest, let writer { try saveBest(to: writer, natsPerDimension: nats) }
                    return (nats, isBest)
                }
                onEvent(.validation(step: step, natsPerDimension: nats, count: validationRows.count))
                if isBest {
                    onEvent(.best(step: step, natsPerDimension: nats))
                } else if let best, let patience = configuration.earlyStoppingPatience, patience > 0,
                          validationsSince(best.step) >= patience {
                    stopEarly = true
                    onEvent(.earlyStop(step: step, bestStep: best.step, natsPerDimension: best.natsPerDimension))
                }
            }
            let stopping = try anyProcess(shouldStop()) || stopEarly
            if let writer, step % configuration.checkpointEvery == 0 || step == end || stopping {
                try saveCheckpoint(to: writer)
                onEvent(.checkpoint(step: step, directory: writer))
            }
            if stopping { return }
        }
    }

    /// The averaging decay in effect at update `t` (0-based):
    /// min(ema_decay, (1 + t)/(10 + t)).
    func averageDecay(atUpdate t: Int) -> Float {
        Float(min(configuration.effectiveEMADecay, Double(1 + t) / Double(10 + t)))
    }

    /// average ← d·average + (1 − d)·parameters after update `t`.
    func updateAverage(_ average: FloatBuffer, afterUpdate t: Int) {
        let d = averageDecay(atUpdate: t)
        Vector.scale(average.pointer, by: d, count: average.count)
        Vector.axpy(1 - d, flow.parameters.pointer, average.pointer, count: average.count)
    }

    /// Runs `body` with the averaged parameters in the flow (BatchNorm's
    /// running statistics stay those of the live parameters), then puts the
    /// live ones back; without averaging, runs `body` as it is.
    func withAveragedParameters<T>(_ body: () throws -> T) rethrows -> T {
        guard let average else { return try body() }
        let live = flow.parameters.copy()
        flow.parameters.pointer.update(from: average.pointer, count: average.count)
        defer { flow.parameters.pointer.update(from: live.pointer, count: live.count) }
        return try body()
    }

    /// Validations held after `bestStep` up to the current step (they run at
    /// multiples of `validationInterval`), so the count needs no saved state.
    func validationsSince(_ bestStep: Int) -> Int {
        step / configuration.validationInterval - bestStep / configuration.validationInterval
    }

    /// Publishes the flow alone (no optimiser state: it is for use, not for
    /// resuming) as the run's `best` checkpoint, with its validation NLL in
    /// the metadata.
    func saveBest(to directory: URL, natsPerDimension: Double) throws {
        guard flow.parameters.isFinite, flow.buffers.isFinite else { return }
        // A run always has a resumable `last` once it has a `best`.
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent(CheckpointDirectory.lastSlot).path) {
            try saveCheckpoint(to: directory)
        }
        try CheckpointDirectory(directory).publish(slot: CheckpointDirectory.bestSlot, step: step) { generation in
            try FlowCheckpoint.save(flow, to: generation, step: step,
                                    extraMetadata: [Trainer.validationMetadataKey: String(natsPerDimension)])
        }
    }

    static let validationMetadataKey = "validation_nats_per_dim"


    func nanMessage(_ what: String, step: Int) -> String {
        var message = "training stopped at step \(step + 1): \(what)."
        if let outputDirectory {
            message += " The last good checkpoint in \(outputDirectory.path) is intact."
        }
        return message + " Try a lower base_learning_rate or set grad_clip."
    }

    /// Mean held-out negative log-likelihood, nats per dimension (evaluation mode).
    public func validationNatsPerDimension() -> Double {
        let target = data.target.gatherRows(validationRows)
        let condition = data.condition.gatherRows(validationRows)
        return Evaluation.natsPerDimension(flow: flow, target: target, condition: condition).natsPerDimension
    }

    /// Publishes the flow and the training state as one checkpoint in
    /// `directory` (`CheckpointDirectory`), after checking that every value
    /// is finite: a checkpoint that could only produce NaN is never written,
    /// and the last good one stays.
    func saveCheckpoint(to directory: URL) throws {
        guard flow.parameters.isFinite, flow.buffers.isFinite, optimizer.firstMoment.isFinite,
              optimizer.secondMoment.isFinite, optimizer.maxSecondMoment.isFinite else {
            throw Net2NetError.training(nanMessage("a parameter, BatchNorm statistic or optimiser moment became non-finite", step: step - 1))
        }
        if let average, !average.isFinite {
            throw Net2NetError.training(nanMessage("the parameters' moving average became non-finite", step: step - 1))
        }
        try CheckpointDirectory(directory).publish(step: step) { generation in
            // (A `best` checkpoint newer than this state belongs to steps that the
            // resumed run takes again, and reaches again, bit for bit.)
            try FlowCheckpoint.saveState(optimizer, average: average, step: step, configuration: configuration, to: generation,
                                         extraMetadata: selection.metadata(valueKey: Trainer.validationMetadataKey))
            try FlowCheckpoint.save(flow, to: generation, step: step)
        }
    }
}

/// Held-out likelihood of a flow.
public enum Evaluation {
    /// Mean negative log-likelihood (nats per sample and per dimension) of `target` given `condition`.
    public static func natsPerDimension(flow: ConditionalFlow, target: Tensor, condition: Tensor?)
        -> (nll: Double, natsPerDimension: Double, count: Int) {
        let nll = flow.negativeLogLikelihood(target, condition: flow.configuration.isConditional ? condition : nil)
        let n = nll.count
        let mean = n == 0 ? .nan : nll.scalars.reduce(0.0) { $0 + Double($1) } / Double(n)
        return (mean, mean / Double(flow.configuration.dimension), n)
    }
}
