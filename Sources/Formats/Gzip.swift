import CZlibSystem
import Foundation

/// gzip (RFC 1952) through zlib: streamed inflate and deflate.
///
/// `decompress` inflates chunk by chunk into a growing buffer, so it needs no
/// size up front, and it reads concatenated members as one stream, as `gunzip`
/// does. The output is bounded as it grows: more than `limits.inflatedBytes`,
/// or (past 1 MiB) more than `limits.compressionRatio` inflated bytes per
/// compressed byte, is `FormatError.limitExceeded` — a gzip bomb stops there.
/// Errors name the file: not gzip (`badMagic`), a stream that stops before
/// its end marker (`truncated`), damaged data or checksum (`invalidData`).
public enum Gzip {
    /// Whether `bytes` start with the gzip signature 1f 8b.
    public static func hasSignature(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The inflated contents of the gzip file at `url`.
    public static func decompress(contentsOf url: URL, limits: FormatLimits = .fromEnvironment()) throws -> [UInt8] {
        let file = try MappedFile(url)
        return try decompress(file.bytes, path: file.path, limits: limits)
    }

    /// The file's bytes, inflated when they start with the gzip signature and
    /// as they are otherwise (so `x.idx` and `x.idx.gz` read the same way).
    public static func contents(of url: URL, limits: FormatLimits = .fromEnvironment()) throws -> [UInt8] {
        let file = try MappedFile(url)
        if hasSignature(file.bytes) { return try decompress(file.bytes, path: file.path, limits: limits) }
        return [UInt8](file.bytes)
    }

    /// Inflates the gzip stream `bytes`; `path` names it in errors.
    public static func decompress(_ bytes: UnsafeRawBufferPointer, path: String,
                                  limits: FormatLimits = .fromEnvironment()) throws -> [UInt8] {
        guard hasSignature(bytes) else {
            throw FormatError.badMagic(path: path, format: "gzip")
        }
        var stream = z_stream()
        // 16 + MAX_WBITS: expect (and check) the gzip header and CRC-32 trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FormatError.invalidData(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }

        // A raw buffer that doubles as it fills: zlib writes straight into it,
        // so no per-byte Swift code runs (fast even in debug builds).
        var output = GrowingBuffer()
        let chunk = 1 << 16
        var consumed = 0
        while true {
            let remaining = bytes.count - consumed
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + consumed)
            let offered = min(remaining, Int(UInt32.max))
            stream.avail_in = UInt32(offered)
            stream.next_out = output.reserve(chunk)
            stream.avail_out = UInt32(chunk)
            let status = inflate(&stream, Z_NO_FLUSH)
            consumed += offered - Int(stream.avail_in)
            output.count += chunk - Int(stream.avail_out)
            try limits.check(.inflatedBytes, output.count, path: path, what: "gzip stream")
            if output.count > 1 << 20 {
                try limits.check(.compressionRatio, output.count / max(consumed, 1), path: path,
                                 what: "gzip stream (\(output.count) bytes from \(consumed))")
            }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                // Another member may follow (concatenated gzip files).
                if consumed < bytes.count,
                   hasSignature(UnsafeRawBufferPointer(rebasing: bytes[consumed...])) {
                    guard inflateReset(&stream) == Z_OK else {
                        throw FormatError.invalidData(path: path, reason: "zlib could not restart for the next gzip member")
                    }
                    continue
                }
                return output.array()
            case Z_BUF_ERROR where consumed == bytes.count:
                throw FormatError.truncated(
                    path: path,
                    reason: "the gzip stream ends after \(bytes.count) bytes (\(output.count) inflated) without its end marker and checksum")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw FormatError.invalidData(
                    path: path, reason: "damaged gzip stream at compressed byte \(consumed): \(message)")
            }
        }
    }

    /// `bytes` as one gzip member (deflate at `level`, 0…9).
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = 6) -> Data {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed (\(status)); level must be 0…9")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))))
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        let finished = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            stream.next_out = buffer.baseAddress
            stream.avail_out = UInt32(buffer.count)
            return deflate(&stream, Z_FINISH)
        }
        precondition(finished == Z_STREAM_END, "deflate did not finish within deflateBound")
        return Data(output.prefix(Int(stream.total_out)))
    }

    /// `data` as one gzip member.
    public static func compress(_ data: Data, level: Int32 = 6) -> Data {
        data.withUnsafeBytes { compress($0, level: level) }
    }
}

/// Bytes in a `malloc` block that grows by doubling; `count` bytes are valid.
private struct GrowingBuffer: ~Copyable {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    var count = 0

    /// Room for `extra` more bytes after `count`; returns where they start.
    mutating func reserve(_ extra: Int) -> UnsafeMutablePointer<UInt8> {
        if count + extra > capacity {
            capacity = max(count + extra, 2 * capacity)
            guard let grown = realloc(base, capacity) else { fatalError("out of memory growing a \(capacity)-byte buffer") }
            base = grown
        }
        return base!.assumingMemoryBound(to: UInt8.self) + count
    }

    /// The valid bytes as an array (one copy).
    func array() -> [UInt8] {
        guard let base else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: base, count: count))
    }

    deinit { free(base) }
}
