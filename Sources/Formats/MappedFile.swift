import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory (`mmap`, `MAP_PRIVATE`).
///
/// Pages are read lazily, so opening a multi-gigabyte checkpoint costs nothing
/// until a tensor is touched. The mapping lives as long as this object. If
/// another process truncates the file while it is mapped, touching the lost
/// pages raises SIGBUS; writers in this package replace files by rename, which
/// leaves existing mappings intact.
final class MappedFile {
    /// The path as shown in error messages.
    let path: String
    /// The file's bytes; never empty.
    let bytes: UnsafeRawBufferPointer

    /// Maps `url`; throws `missingFile`, `emptyFile` or `unreadable`.
    init(_ url: URL) throws {
        path = displayPath(url)
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            throw code == ENOENT
                ? FormatError.missingFile(path: path)
                : FormatError.unreadable(path: path, reason: errnoDescription(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FormatError.unreadable(path: path, reason: errnoDescription())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let what = (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "not a regular file"
            throw FormatError.unreadable(path: path, reason: what)
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw FormatError.emptyFile(path: path) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              base != MAP_FAILED else {
            throw FormatError.unreadable(path: path, reason: "mmap failed: \(errnoDescription())")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }

    var count: Int { bytes.count }
}

/// The bytes of `source` (a multiple of `T`'s size, unaligned allowed) as a
/// new array of `T`: one `memcpy`, fast in every build configuration.
func copyElements<T>(of type: T.Type, from source: UnsafeRawBufferPointer) -> [T] {
    let count = source.count / MemoryLayout<T>.stride
    precondition(count * MemoryLayout<T>.stride == source.count, "not a whole number of elements")
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 {
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        initialized = count
    }
}
