import Experts
import Formats
import Foundation
import MessagePassing
import TensorCore

/// A row-wise computation (a frozen expert applied to N inputs) split over
/// the processes of a job and cached on disk, so that a run killed part way
/// resumes where it stopped and later runs reuse the result.
///
/// Rows are taken in chunks of `chunkRows`; within chunk k (global rows
/// [k·C, min((k+1)·C, N))) process r computes the strided rows k·C + r,
/// k·C + r + size, …; rank 0 gathers the parts, puts every row back in its
/// original place and writes `chunk-KKKKKK.npy` (atomically) into the
/// computation's cache directory, named by `key`. A chunk on disk is never
/// computed again, so a killed process leaves only whole chunks, and the next
/// run (with any number of processes) continues with the first missing one.
/// At the end every process receives the whole `[N, width]` result.
///
/// The expert must compute each row independently of the others in its call
/// (inference mode); then the result equals one process's, up to the float
/// rounding of differently sized GEMMs.
public struct ShardedRows {
    public let communicator: Communicator
    /// Where the chunks of each computation go (a folder per key).
    public let cacheDirectory: URL
    public let chunkRows: Int
    /// Called on rank 0 with progress lines.
    public var progress: (String) -> Void
    /// Whether one process without MPI also computes into the cache; when
    /// false it only reads a complete cache (`ExperimentExperts`).
    public var cachesInOneProcess = false

    public init(communicator: Communicator, cacheDirectory: URL, chunkRows: Int = 2048,
                progress: @escaping (String) -> Void = { _ in }) {
        precondition(chunkRows > 0)
        self.communicator = communicator
        self.cacheDirectory = cacheDirectory
        self.chunkRows = chunkRows
        self.progress = progress
    }

    /// A cache key naming a computation by its expert and the SHA-256 of its input.
    public static func key(_ name: String, input: Data) -> String {
        "\(name)-\(SHA256.hex(input).prefix(16))"
    }

    /// The folder of `key`'s chunks.
    public func directory(for key: String) -> URL { cacheDirectory.appendingPathComponent(key) }

    func chunkFile(_ k: Int, key: String) -> URL {
        directory(for: key).appendingPathComponent(String(format: "chunk-%06d.npy", k))
    }

    /// Whether every chunk of `count` rows of `key` is on disk (no MPI involved).
    public func isComplete(count: Int, key: String) -> Bool {
        (0..<chunkCount(count)).allSatisfy { FileManager.default.fileExists(atPath: chunkFile($0, key: key).path) }
    }

    func chunkCount(_ count: Int) -> Int { (count + chunkRows - 1) / chunkRows }

    /// f(rows 0..<count) `[count, width]`, where `compute(rows)` returns the
    /// rows' values `[rows.count, width]` in the order given. Every process
    /// calls it with the same arguments.
    public func map(count: Int, key: String, compute: ([Int]) throws -> Tensor) throws -> Tensor {
        let chunks = chunkCount(count), size = communicator.size, rank = communicator.rank
        // Rank 0 decides which chunks exist, so that all agree.
        var missing = [Double](repeating: 0, count: chunks)
        if communicator.isRoot {
            try FileManager.default.createDirectory(at: directory(for: key), withIntermediateDirectories: true)
            // What a killed writer left: its temporary file (AtomicFile), never a partial chunk.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory(for: key).path)) ?? []
                where name.hasPrefix(".") && name.contains(".tmp-") {
                try? FileManager.default.removeItem(at: directory(for: key).appendingPathComponent(name))
            }
            for k in 0..<chunks where !FileManager.default.fileExists(atPath: chunkFile(k, key: key).path) { missing[k] = 1 }
            let cached = missing.filter { $0 == 0 }.count
            if cached > 0 { progress("\(key): \(cached) of \(chunks) chunks cached in \(directory(for: key).path)") }
        }
        try communicator.broadcast(&missing)
        for k in 0..<chunks where missing[k] == 1 {
            let start = k * chunkRows, end = min(start + chunkRows, count)
            let rows = Array(stride(from: start + rank, to: end, by: size))
            let part = rows.isEmpty ? nil : try compute(rows)
            if let part, part.shape.count != 2 || part.shape[0] != rows.count {
                throw Net2NetError.data(path: key, problem: "the expert returned \(part.shape) for \(rows.count) rows")
            }
            var width = [Double(part?.shape[1] ?? 0)]
            try communicator.allreduce(&width, .maximum)
            let D = Int(width[0])
            let gathered = try communicator.gather(part?.scalars ?? [])
            if let gathered {
                try NPY.write(interleave(gathered, rows: end - start, width: D), to: chunkFile(k, key: key))
                progress("\(key): chunk \(k + 1)/\(chunks) (\(end) of \(count) rows)")
            }
        }
        // Rank 0 reads the chunks back in order and shares the whole result.
        var shape = [Double](repeating: 0, count: 2)
        var values: [Float] = []
        if communicator.isRoot {
            var parts: [Tensor] = []
            for k in 0..<chunks {
                let chunk = try NPY.readFloat32(chunkFile(k, key: key))
                let expected = min(chunkRows, count - k * chunkRows)
                guard chunk.shape.count == 2, chunk.shape[0] == expected,
                      parts.isEmpty || chunk.shape[1] == parts[0].shape[1] else {
                    throw Net2NetError.data(path: chunkFile(k, key: key).path,
                                            problem: "holds \(chunk.shape), expected \(expected) rows like the other chunks; delete \(directory(for: key).path) to compute it again")
                }
                parts.append(chunk)
            }
            values = parts.flatMap(\.scalars)
            shape = [Double(count), Double(parts.first?.shape[1] ?? 0)]
        }
        try communicator.broadcast(&shape)
        if !communicator.isRoot { values = [Float](repeating: 0, count: Int(shape[0]) * Int(shape[1])) }
        try communicator.broadcast(&values)
        return Tensor(shape: [Int(shape[0]), Int(shape[1])], scalars: values)
    }

    /// Rank r's part holds rows r, r + size, … of the chunk in order; returns the chunk's rows in order.
    func interleave(_ gathered: [Float], rows: Int, width D: Int) -> Tensor {
        let size = communicator.size
        var result = [Float](repeating: 0, count: rows * D)
        var offset = 0
        for r in 0..<min(size, rows) {
            for row in stride(from: r, to: rows, by: size) {
                for j in 0..<D { result[row * D + j] = gathered[offset + j] }
                offset += D
            }
        }
        return Tensor(shape: [rows, D], scalars: result)
    }
}
