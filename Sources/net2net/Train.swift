import ArgumentParser
import Foundation
import Net2Net
import Flow
import MessagePassing

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a conditional INN on paired representations.",
        discussion: """
        Maximum-likelihood training of τ on pairs (z_Φ = condition, z_Θ = target), row i of one \
        paired with row i of the other; without --condition, τ is unconditional and learns the \
        distribution of the targets alone. Settings come from a YAML file of keys (the reference's \
        names), then --set overrides, then the flags. Keys: \(TrainingConfiguration.keys.joined(separator: ", ")).

        The defaults are chosen to generalise on small data: learning rate batch_size × 1e-6 \
        with cosine decay to 0 at `steps`; validation on 10 % of the pairs \
        \(TrainingConfiguration.validationsPerRun) times per run (every steps / \(TrainingConfiguration.validationsPerRun)); \
        an average of the parameters (ema_decay \(TrainingConfiguration.defaultEMADecay)) is validated, and the one of \
        the lowest validation NLL is kept as OUTPUT/best; decoupled weight decay of \
        \(Int(TrainingConfiguration.defaultWeightDecayPairs)) / the training pairs (a prior that weakens as the data \
        grows: 2.2 for 4 500 pairs, 0.2 for 45 000); the condition is standardised inside the \
        flow and its embedding net has no BatchNorm, so that τ learns the condition slowly and \
        overfits late. configs/reference.yaml has the reference's settings (BatchNorm, \
        batch_size × 4.5e-6, constant); the experiment recipes in configs/ keep its BatchNorm, \
        which follows sentence embeddings more closely. For a short run or a narrow conditioner \
        (conditioning_hidden_dim of tens), --set conditioner_use_bn=true learns the condition \
        sooner (README: training keys).

        Checkpoints (flow.safetensors + training_state.safetensors, one unit) are written every \
        checkpoint_every steps, at the end, and on Ctrl-C or SIGTERM (then the exit status is 130 \
        or 143). Each goes into OUTPUT/checkpoints/step-…/ and is published as OUTPUT/last in one \
        rename, so a kill at any moment leaves a complete checkpoint; --checkpoint OUTPUT reads \
        it. One process at a time writes into an output directory (OUTPUT/.lock). --resume \
        continues a run exactly where its last checkpoint left it.

        --distributed trains data-parallel in an MPI job (Open MPI, loaded at run time): each of \
        the N processes computes B/N rows of every batch of batch_size B, the gradients are \
        summed over processes, and the result is the single-process run's up to float rounding. \
        Rank 0 validates, prints and writes the checkpoints; all ranks resume from them.

        Example:
          net2net train --config configs/gaussian.yaml --set steps=2000 \\
                        --condition c.npy --target z.npy --output-dir runs/g
          mpirun -np 4 net2net train --distributed --threads 1 --config configs/gaussian.yaml \\
                        --condition c.npy --target z.npy --output-dir runs/g4
        """)

    @Option(help: "YAML configuration file.") var config: String?
    @Option(name: .customLong("set"), help: "Override a key: --set key=value (repeatable).") var overrides: [String] = []
    @Option(help: "Condition representations z_Φ, float32 .npy [N, Dc].") var condition: String?
    @Option(help: "Target representations z_Θ, float32 .npy [N, D].") var target: String?
    @Option(name: .customLong("output-dir"), help: "Where checkpoints go.") var outputDirectory: String?
    @Option(help: "Number of training steps (overrides the config).") var steps: Int?
    @Flag(help: "Continue from the checkpoint in the output directory.") var resume = false
    @Flag(help: "Data-parallel training over the processes of an MPI job (start with mpirun -np N).") var distributed = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try withCommunicator(distributed: distributed) { try train(communicator: $0) }
    }

    func train(communicator: Communicator) throws {
        var yaml: String? = nil
        if let config {
            guard FileManager.default.fileExists(atPath: config) else {
                throw Net2NetError.configuration("\(config): no such file")
            }
            yaml = try String(contentsOfFile: config, encoding: .utf8)
        }
        var all = overrides
        if let condition { all.append("condition=\(condition)") }
        if let target { all.append("target=\(target)") }
        if let outputDirectory { all.append("output_dir=\(outputDirectory)") }
        if let steps { all.append("steps=\(steps)") }
        let settings = try TrainingConfiguration.load(yaml: yaml, source: config ?? "flags", overrides: all)
        guard let targetPath = settings.target else {
            throw Net2NetError.configuration("give the data: --target, and --condition unless the flow is unconditional (or the keys target and condition)")
        }
        guard let outputPath = settings.outputDirectory else {
            throw Net2NetError.configuration("give --output-dir (or the key output_dir) for the checkpoints")
        }
        let output = fileURL(outputPath)
        // Rank 0 alone writes (and locks) the output directory.
        if communicator.isRoot { try checkOutputDirectory(output, modelFile: FlowCheckpoint.flowFile, resume: resume) }
        try communicator.barrier()
        let data = try settings.condition.map { try PairDataset(conditionFile: fileURL($0), targetFile: fileURL(targetPath)) }
            ?? PairDataset(targetFile: fileURL(targetPath))
        if communicator.isRoot { try reportDataProblems(data) } else { try data.checkTrainable() }
        let trainer = try Trainer(configuration: settings, data: data, outputDirectory: output, resume: resume,
                                  communicator: communicator)
        guard communicator.isRoot else { return try runFlowTraining(trainer, settings: settings, quiet: true) }
        if communicator.usesMPI {
            note("data-parallel over \(communicator.size) processes (\(Communicator.libraryPath)): "
                 + "\(settings.batchSize / communicator.size) rows of each batch per process")
        }
        let shape = data.conditionDimension == 0 ? "\(data.count) targets of \(data.dimension)-d, no condition"
            : "\(data.count) pairs, condition \(data.conditionDimension)-d → target \(data.dimension)-d"
        note("training τ: \(shape), "
             + "\(trainer.flow.parameterCount) parameters, batch \(settings.batchSize), lr \(settings.learningRate), "
             + "weight decay \(String(format: "%.3g", trainer.weightDecay))"
             + (resume ? ", resuming at step \(trainer.step)" : ""))
        try runFlowTraining(trainer, settings: settings)
    }
}

/// Prints the warnings about the pairs' columns; throws the first error.
func reportDataProblems(_ data: PairDataset) throws {
    for finding in data.findings where !finding.isError {
        note("warning: \(finding.path): \(finding.problem)")
    }
    try data.checkTrainable()
}

/// Before any work: the output directory can be created and written, no
/// other process writes into it, and it holds a checkpoint exactly when resuming.
func checkOutputDirectory(_ output: URL, modelFile: String, resume: Bool) throws {
    try CheckpointLock.checkAvailable(output)
    if !resume, CheckpointDirectory(output).holdsCheckpoint(modelFile: modelFile) {
        throw Net2NetError.configuration("\(output.relativePath) already holds a checkpoint; pass --resume to continue it, or choose another --output-dir")
    }
}

/// Runs `trainer`, printing progress and validation, checkpointing on Ctrl-C and SIGTERM.
/// With `quiet` (the ranks of a distributed run other than 0) nothing is printed.
func runFlowTraining(_ trainer: Trainer, settings: TrainingConfiguration, quiet: Bool = false) throws {
    let averaged = settings.averagesParameters
    let interrupt = try runInterruptibly { shouldStop in
        try trainer.run(shouldStop: shouldStop) { event in
            switch event {
            case let .progress(step, total, loss, nats, rate, lr):
                note(String(format: "step %d/%d  loss %.4f  %.4f nats/dim  %.0f samples/s  lr %.3g",
                            step, total, loss, nats, rate, lr))
            case let .validation(step, nats, count):
                note(String(format: "step %d  validation %.4f nats/dim (%d pairs%@)", step, nats, count,
                            averaged ? ", averaged parameters" : ""))
            case let .checkpoint(step, directory):
                if step % settings.checkpointEvery == 0 || step == settings.steps || shouldStop() {
                    note("step \(step)  checkpoint → \(directory.path)")
                }
            case let .best(step, _):
                note("step \(step)  new best validation → \(trainer.outputDirectory.map { $0.appendingPathComponent(CheckpointDirectory.bestSlot).path } ?? "memory")")
            case let .earlyStop(step, bestStep, nats):
                note(String(format: "step %d  stopping early: no better validation than %.4f nats/dim (step %d) in %d validations",
                            step, nats, bestStep, settings.earlyStoppingPatience ?? 0))
            }
        }
    }
    if let interrupt {
        if quiet { throw ExitCode(128 + interrupt) }
        try exitInterrupted(by: interrupt, step: trainer.step, directory: trainer.outputDirectory)
    }
    if !quiet, let best = trainer.best {
        let location = trainer.outputDirectory.map { " (\($0.appendingPathComponent(CheckpointDirectory.bestSlot).path)"
            + (averaged ? ", the parameters' moving average" : "") + "; "
            + "eval, sample and translate use it, give \($0.appendingPathComponent(CheckpointDirectory.lastSlot).path) for the last step)" } ?? ""
        note(String(format: "best validation %.4f nats/dim at step %d", best.natsPerDimension, best.step) + location)
    }
}
