import Foundation
import XCTest
import TensorCore

/// `Parallel.forEachChunk` covers `0..<count` exactly once, with chunks that
/// depend only on the count and the thread setting.
final class ParallelTests: XCTestCase {
    let counts = [0, 1, 15, 16, 17, 100, 1000, 4097, 100_003]

    func testChunkRangesTileTheRange() {
        for count in counts {
            for chunks in 1...9 {
                var next = 0
                for index in 0..<chunks {
                    let range = Parallel.chunkRange(index, of: chunks, count: count)
                    XCTAssertEqual(range.lowerBound, next, "count \(count), chunk \(index) of \(chunks)")
                    next = range.upperBound
                }
                XCTAssertEqual(next, count, "count \(count), \(chunks) chunks")
            }
        }
    }

    func testForEachChunkVisitsEveryIndexOnce() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for threads in [1, 3, 4] {
            Parallel.threadCount = threads
            for count in counts {
                for minimumChunk in [1, 7, 1 << 15] {
                    var visits = [Int32](repeating: 0, count: count)
                    var calls = 0
                    let lock = NSLock()
                    visits.withUnsafeMutableBufferPointer { buffer in
                        Parallel.forEachChunk(count: count, minimumChunk: minimumChunk) { range in
                            for i in range { buffer[i] += 1 }  // chunks are disjoint, so no race
                            lock.lock(); calls += 1; lock.unlock()
                        }
                    }
                    XCTAssertTrue(visits.allSatisfy { $0 == 1 }, "count \(count), threads \(threads), min \(minimumChunk)")
                    let chunks = Parallel.chunkCount(count: count, minimumChunk: minimumChunk)
                    XCTAssertEqual(calls, count == 0 ? 0 : chunks)
                    XCTAssertLessThanOrEqual(chunks, threads)
                }
            }
        }
    }
}
