import ArgumentParser
import Foundation
import MessagePassing

/// Runs `body` with the MPI job's communicator (`distributed`) or with this
/// process alone. In a job, an error on any process prints `error: rank R:
/// …` and aborts the whole job (the others would otherwise wait for it in
/// their next collective); on success and on a requested exit (a signal's
/// checkpoint) every process leaves MPI.
func withCommunicator(distributed: Bool, bucketElements: Int = 1 << 24,
                      _ body: (Communicator) throws -> Void) throws {
    guard distributed else {
        if Communicator.isLaunchedByMPI {
            note("warning: started by an MPI launcher without --distributed: each process runs alone")
        }
        return try body(.single)
    }
    let communicator: Communicator
    do {
        communicator = try Communicator.world(bucketElements: bucketElements)
    } catch {
        throw ValidationError("--distributed: \(error.localizedDescription)")
    }
    do {
        try body(communicator)
    } catch let exit as ExitCode {
        communicator.finalize()
        throw exit
    } catch {
        FileHandle.standardError.write(Data("error: rank \(communicator.rank): \(errorText(error))\n".utf8))
        communicator.abort(code: 1)
    }
    communicator.finalize()
}
