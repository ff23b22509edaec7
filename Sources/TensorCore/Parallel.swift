import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic data-parallel loops over index ranges.
///
/// Work is cut into a fixed number of contiguous chunks that depends only on
/// the element count and `threadCount`, so reductions give the same bits on
/// every run with the same settings.
public enum Parallel {
    /// Threads used for elementwise loops; defaults to the active processors.
    nonisolated(unsafe) public static var threadCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` once per chunk of `0..<count`, possibly concurrently.
    /// Runs inline when the work is smaller than `minimumChunk` per thread.
    public static func forEachChunk(
        count: Int, minimumChunk: Int = 1 << 15,
        _ body: (Range<Int>) -> Void
    ) {
        forEachChunkIndexed(count: count, minimumChunk: minimumChunk) { _, range in body(range) }
    }

    /// Like `forEachChunk`, also passing the chunk's index in
    /// `0..<chunkCount(count:minimumChunk:)` (for per-chunk partial results).
    public static func forEachChunkIndexed(
        count: Int, minimumChunk: Int = 1 << 15,
        _ body: (Int, Range<Int>) -> Void
    ) {
        let chunks = chunkCount(count: count, minimumChunk: minimumChunk)
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        // Inside another parallel loop the same chunks run one after another
        // on this thread (same results, no oversubscription).
        runTasks(chunks) { index in body(index, chunkRange(index, of: chunks, count: count)) }
    }

    /// The number of chunks `forEachChunk` uses for `count` elements.
    public static func chunkCount(count: Int, minimumChunk: Int = 1 << 15) -> Int {
        max(1, min(threadCount, count / max(1, minimumChunk)))
    }

    /// Range of chunk `index` of `chunks` over `0..<count`, aligned to 16 elements.
    public static func chunkRange(_ index: Int, of chunks: Int, count: Int) -> Range<Int> {
        let per = ((count + chunks - 1) / chunks + 15) & ~15
        let start = min(count, index * per)
        let end = index == chunks - 1 ? count : min(count, start + per)
        return start..<end
    }

    /// Whether the calling thread is running a task of a parallel loop.
    public static var isInsideRegion: Bool { pthread_getspecific(regionKey) != nil }

    private static let regionKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `count` tasks concurrently, each marked as inside a parallel
    /// region; runs them in order when already inside one.
    public static func runTasks(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || isInsideRegion {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: count) { i in
                pthread_setspecific(regionKey, UnsafeRawPointer(bitPattern: 1))
                body(i)
                pthread_setspecific(regionKey, nil)
            }
        }
    }
}
