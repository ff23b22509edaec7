import Formats
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exclusive right to write checkpoints into a directory: `flock(2)` on
/// `<directory>/.lock`, which holds the writer's pid.
///
/// The kernel drops the lock when its process dies, however it dies, so a
/// killed run never leaves the directory locked. A second writer — another
/// process, or a second lock in this one — gets `Net2NetError.directoryInUse`
/// naming the holder's pid. Taking the lock also proves the directory
/// writable: it is created if missing and the lock file is opened for writing.
public final class CheckpointLock {
    public let directory: URL
    private var descriptor: Int32

    /// Creates `directory` if needed and takes its lock, or throws.
    public init(directory: URL) throws {
        self.directory = directory
        descriptor = try CheckpointLock.openLockFile(directory)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = CheckpointLock.recordedPid(descriptor)
            close(descriptor)
            throw Net2NetError.directoryInUse(path: directory.path, pid: holder)
        }
        let pid = Data("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Checks, without keeping the lock, that `directory` can be created and
    /// written and that no other process holds it.
    public static func checkAvailable(_ directory: URL) throws {
        try CheckpointLock(directory: directory).release()
    }

    /// Gives the lock up (also done when the lock is deallocated).
    public func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { release() }

    private static func openLockFile(_ directory: URL) throws -> Int32 {
        try AtomicFile.createDirectory(directory)
        let path = directory.appendingPathComponent(CheckpointDirectory.lockFile).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Net2NetError.output(path: directory.path, problem: "not writable: cannot create \(CheckpointDirectory.lockFile): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    private static func recordedPid(_ descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
