import Formats
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A training run's output directory, in which every checkpoint is one
/// atomic unit.
///
/// ```
/// run/
///   .lock                        flock(2) of the writing process, holds its pid
///   last -> checkpoints/step-00000120-9f3a…   the newest checkpoint
///   best -> checkpoints/step-00000100-41c2…   (slot for the best validation checkpoint)
///   checkpoints/
///     step-00000120-9f3a…/       one generation: the model file(s) and
///                                training_state.safetensors, written together
///   experiment.json              (experiments) beside the slots
/// ```
///
/// A checkpoint is written into a fresh generation directory (each file
/// fsynced), then published by replacing the slot's symbolic link with one
/// `rename(2)`. A kill at any moment therefore leaves the slot naming either
/// the previous generation or the new one, both complete. Generations no slot
/// names, and temporary files (`.*.tmp-*`), are what killed writers leave;
/// `removeStale()` deletes them when the next writer holds the lock.
///
/// Readers take a directory as it comes: with a `best` slot (the flow with
/// the lowest validation NLL, written by model selection during training)
/// they read that, else the generation `last` names; without slots (shipped
/// models, runs written before slots existed, or a slot or generation
/// directory given directly) the directory itself holds the files. Give
/// `run/last` to read the last checkpoint of a run that has a `best`.
public struct CheckpointDirectory: Sendable {
    public let url: URL

    public static let lastSlot = "last"
    /// Reserved for the checkpoint with the best validation score.
    public static let bestSlot = "best"
    public static let slots = [lastSlot, bestSlot]
    public static let generationsFolder = "checkpoints"
    public static let lockFile = ".lock"

    public init(_ url: URL) { self.url = url }

    /// Where the files of the checkpoint at `location` are: the generation
    /// `location/<slot>` names if there is one, else `location` itself. With
    /// no slot given: `best` if the run has one, else `last`.
    public static func modelDirectory(for location: URL, slot: String? = nil) -> URL {
        for name in slot.map({ [$0] }) ?? [bestSlot, lastSlot] {
            let slotURL = location.appendingPathComponent(name)
            var status = stat()
            if lstat(slotURL.path, &status) == 0 { return slotURL }
        }
        return location
    }

    /// The checkpoint file `name` of `location`, which may be the file itself,
    /// a run directory (its `best` slot, else `last`, or the `slot` given) or
    /// a directory holding the file.
    public static func file(_ name: String, at location: URL, slot: String? = nil) -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return location
        }
        return modelDirectory(for: location, slot: slot).appendingPathComponent(name)
    }

    /// The run directory `location` belongs to (where `experiment.json` is):
    /// the directory of a file given directly, and the run above a slot or a generation.
    public static func runDirectory(for location: URL) -> URL {
        var isDirectory: ObjCBool = false
        var directory = location
        if FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            directory = location.deletingLastPathComponent()
        }
        if slots.contains(directory.lastPathComponent) {
            return directory.deletingLastPathComponent()
        }
        if directory.deletingLastPathComponent().lastPathComponent == generationsFolder {
            return directory.deletingLastPathComponent().deletingLastPathComponent()
        }
        return directory
    }

    /// Whether the directory holds a checkpoint with the file `modelFile`, in either layout.
    public func holdsCheckpoint(modelFile: String) -> Bool {
        FileManager.default.fileExists(atPath: CheckpointDirectory.modelDirectory(for: url).appendingPathComponent(modelFile).path)
    }

    /// Writes one checkpoint: `write` fills a fresh generation directory,
    /// which is then published as `slot`. Call with the lock held. Files of
    /// the same names lying directly in the run directory (the layout before
    /// slots) are superseded and removed, as are generations no slot names.
    /// Returns the generation directory.
    @discardableResult
    public func publish(slot: String = lastSlot, step: Int, write: (URL) throws -> Void) throws -> URL {
        precondition(CheckpointDirectory.slots.contains(slot), "unknown checkpoint slot \(slot)")
        let generations = url.appendingPathComponent(CheckpointDirectory.generationsFolder)
        let name = String(format: "step-%08d-%08x", step, UInt32.random(in: 0 ... .max))
        let generation = generations.appendingPathComponent(name)
        try AtomicFile.createDirectory(generation)
        try write(generation)
        AtomicFile.syncDirectory(generation)
        AtomicFile.syncDirectory(generations)
        let slotURL = url.appendingPathComponent(slot)
        let temporary = url.appendingPathComponent(".\(slot).tmp-\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 16))")
        guard symlink("\(CheckpointDirectory.generationsFolder)/\(name)", temporary.path) == 0 else {
            throw Net2NetError.output(path: url.path, problem: "cannot create the link \(temporary.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary.path, slotURL.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw Net2NetError.output(path: slotURL.path, problem: "cannot publish the checkpoint (\(reason)); is it a directory made by hand?")
        }
        AtomicFile.syncDirectory(url)
        let written = (try? FileManager.default.contentsOfDirectory(atPath: generation.path)) ?? []
        for file in written {
            let flat = url.appendingPathComponent(file)
            var status = stat()
            if lstat(flat.path, &status) == 0, status.st_mode & S_IFMT == S_IFREG { unlink(flat.path) }
        }
        removeUnreferencedGenerations()
        return generation
    }

    /// The generation names the slots point at.
    func referencedGenerations() -> Set<String> {
        Set(CheckpointDirectory.slots.compactMap { slot in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: url.appendingPathComponent(slot).path))
                .map { URL(fileURLWithPath: $0).lastPathComponent }
        })
    }

    /// Deletes generations that no slot names; returns their names.
    @discardableResult
    func removeUnreferencedGenerations() -> [String] {
        let generations = url.appendingPathComponent(CheckpointDirectory.generationsFolder)
        let keep = referencedGenerations()
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: generations.path)) ?? [] where !keep.contains(name) {
            if (try? FileManager.default.removeItem(at: generations.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }

    /// Deletes what killed writers leave: temporary files and links
    /// (`.*.tmp-*`) and generations no slot names. Call with the lock held.
    /// Returns the names removed.
    @discardableResult
    public func removeStale() -> [String] {
        var removed = removeUnreferencedGenerations().map { "\(CheckpointDirectory.generationsFolder)/\($0)" }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            where name.hasPrefix(".") && name.contains(".tmp-") {
            if (try? FileManager.default.removeItem(at: url.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }
}
