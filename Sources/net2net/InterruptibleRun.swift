import ArgumentParser
import Dispatch
import Foundation
import Synchronization

/// Runs long work that can stop cleanly: the first SIGINT (Ctrl-C) or
/// SIGTERM asks `body` to stop (its `shouldStop` turns true; trainers then
/// write a checkpoint and return), a second one kills as usual.
///
/// Signals arrive through dispatch sources on their own queue, so the
/// request lives in an object owned by this call, not in a global. Returns
/// the signal that asked for the stop, or nil when `body` finished by itself.
func runInterruptibly(_ body: (_ shouldStop: () -> Bool) throws -> Void) rethrows -> Int32? {
    let request = StopRequest()
    let signals = [SIGINT, SIGTERM]
    let queue = DispatchQueue(label: "net2net.interrupts")
    let sources = signals.map { number in
        // The default action must not run while the source handles the signal.
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler {
            request.record(number)
            for other in signals { signal(other, SIG_DFL) }
        }
        source.resume()
        return source
    }
    defer {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
    try body { request.signal != 0 }
    return request.signal == 0 ? nil : request.signal
}

/// The first stop signal received (0 for none), shared with the signal queue.
private final class StopRequest: Sendable {
    private let received = Atomic<Int32>(0)

    var signal: Int32 { received.load(ordering: .acquiring) }

    func record(_ number: Int32) {
        _ = received.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
    }
}

/// After an interrupted training run: says where the checkpoint is and
/// exits with 128 + the signal's number, as a shell reports a kill by it.
func exitInterrupted(by number: Int32, step: Int, directory: URL?) throws -> Never {
    let name = number == SIGTERM ? "SIGTERM" : "SIGINT"
    note("interrupted by \(name): checkpoint at step \(step) saved in \(directory?.path ?? "nowhere"); continue with --resume")
    throw ExitCode(128 + number)
}
