import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file all at once: readers see the old contents or the new,
/// never a partial write.
///
/// The bytes go to a temporary file in the destination's directory
/// (`.<name>.tmp-<pid>-<random>`), which is flushed with `fsync` and then
/// renamed over the destination. On any failure — including an error thrown
/// by the caller's `body` — the temporary file is removed and the old
/// destination is left untouched. The parent directory is created if missing.
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { writer in try writer.write(data) }
    }

    /// Streams the file's contents through `body`, then moves it into place.
    ///
    /// Use this for large files so that nothing is assembled in memory first.
    /// Errors thrown by `body` are rethrown unchanged; I/O errors are
    /// `FormatError.writeFailed`.
    public static func write(to url: URL, _ body: (Writer) throws -> Void) throws {
        let path = displayPath(url)
        let directory = url.deletingLastPathComponent()
        do {
            try createDirectory(directory)
        } catch FormatError.writeFailed(_, let reason) {
            throw FormatError.writeFailed(path: path, reason: reason)
        }
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(String(UInt64.random(in: 0 ... .max), radix: 16))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw FormatError.writeFailed(path: path, reason: "cannot create temporary file: \(errnoDescription())")
        }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(fd) }
            if !renamed { unlink(temporary.path) }
        }
        try body(Writer(fd: fd, path: path))
        guard fsync(fd) == 0 else {
            throw FormatError.writeFailed(path: path, reason: "fsync: \(errnoDescription())")
        }
        isOpen = false
        guard close(fd) == 0 else {
            throw FormatError.writeFailed(path: path, reason: "close: \(errnoDescription())")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw FormatError.writeFailed(path: path, reason: "rename: \(errnoDescription())")
        }
        renamed = true
        syncDirectory(directory)
    }

    /// Creates `directory` and its missing parents (like `mkdir -p`).
    ///
    /// Errors are `FormatError.writeFailed` naming `directory` and the
    /// component that failed with the system's reason, e.g. "cannot create
    /// directory /a/b: /a is a file, not a directory".
    public static func createDirectory(_ directory: URL) throws {
        let path = displayPath(directory)
        var status = stat()
        if stat(directory.path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw FormatError.writeFailed(path: path, reason: "cannot create directory: \(path) exists and is a file, not a directory")
            }
            return
        }
        var missing: [URL] = []
        var current = directory.standardizedFileURL
        while stat(current.path, &status) != 0 {
            guard errno == ENOENT else {
                throw FormatError.writeFailed(path: path, reason: "cannot create directory: \(displayPath(current)): \(errnoDescription())")
            }
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        if !missing.isEmpty, stat(current.path, &status) == 0, status.st_mode & S_IFMT != S_IFDIR {
            throw FormatError.writeFailed(path: path, reason: "cannot create directory: \(displayPath(current)) is a file, not a directory")
        }
        for component in missing.reversed() where mkdir(component.path, 0o777) != 0 && errno != EEXIST {
            throw FormatError.writeFailed(path: path, reason: "cannot create directory \(displayPath(component)): \(errnoDescription())")
        }
    }

    /// Makes a rename in `directory` durable; failure here only weakens
    /// durability after a crash, so it is not reported.
    public static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// Appends bytes to the temporary file of one `AtomicFile.write` call.
    /// Valid only inside that call's `body`.
    public struct Writer {
        let fd: Int32
        let path: String

        /// Writes all of `bytes`, retrying short writes and interrupts.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = posixWrite(fd, next, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FormatError.writeFailed(path: path, reason: errnoDescription())
                }
                next += written
                remaining -= written
            }
        }

        /// Writes the bytes of `data`.
        public func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }

        /// Writes the raw (host, little-endian) bytes of `values`.
        public func write<T: BitwiseCopyable>(contentsOf values: [T]) throws {
            try values.withUnsafeBytes { try write($0) }
        }
    }
}

/// The POSIX `write`, reachable from inside a type that has its own `write`.
@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
