import Foundation
import XCTest
@testable import Formats

/// Crafted PyTorch checkpoints and pickles (from
/// `scripts/fixtures/make_hostile_files.py`, or built here): each must give a
/// clean `FormatError` naming the file — no crash, no read outside the file,
/// no allocation of what the file claims.
final class HostileCheckpointTests: FormatsTestCase {
    static let hostile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile", isDirectory: true)

    func hostile(_ name: String) -> URL { Self.hostile.appendingPathComponent(name) }

    func assertRefused(_ name: String, _ fragments: String..., limits: FormatLimits = .defaults,
                       file: StaticString = #filePath, line: UInt = #line) {
        let url = hostile(name)
        assertFormatError(try PyTorchCheckpoint.load(url, limits: limits), path: url, contains: fragments,
                          file: file, line: line)
    }

    func testStorageElementCountThatOverflowsIsRefused() {
        for container in ["legacy", "zip"] {
            assertRefused("\(container)_storage_count_overflow.pth", "storage '0' claims 2305843009213693955 float32",
                          "more bytes than fit in memory")
        }
    }

    func testViewOffsetPlusSizeThatOverflowsIsRefused() {
        assertRefused("legacy_view_offset_overflow.pth", "storage '0' has an invalid view")
        assertRefused("zip_tensor_offset_overflow.pth", "tensor 'w'", "overflows")
    }

    func testViewPastTheStorageEndIsRefused() {
        assertRefused("zip_view_past_storage.pth", "reaches element 13", "holds 12 float32 elements")
    }

    func testZeroStridesCannotExpandATensorBeyondTheLimit() {
        assertRefused("zero_stride_40gb.pth", "tensor 'w' 100000×100000", "elements per tensor 10000000000",
                      "exceeds the limit 1073741824", "NET2NET_MAX_TENSOR_ELEMENTS")
        // Within a raised limit the expansion is honoured (every element is the one stored value).
        var limits = FormatLimits.defaults
        limits.tensorElements = 6
        let url = hostile("zero_stride_2x3.pth")
        let tensors = try? PyTorchCheckpoint.load(url, limits: limits).tensors
        XCTAssertEqual(tensors?.first?.tensor.value, .float32(.init(shape: [2, 3], scalars: [Float](repeating: 1.5, count: 6))))
        limits.tensorElements = 5
        assertFormatError(try PyTorchCheckpoint.load(url, limits: limits), path: url, contains: ["elements per tensor 6"])
    }

    func testNegativeStridesAreRefused() {
        assertRefused("negative_stride.pth", "tensor 'w'", "negative offset, size or stride")
    }

    func testZipEntryClaimingABombRatioIsRefusedFromTheDirectory() {
        assertRefused("zip_bomb_ratio.pth", "entry 'archive/data.pkl'", "inflated bytes 1099511627776")
        var limits = FormatLimits.defaults
        limits.inflatedBytes = 1 << 41
        assertRefused("zip_bomb_ratio.pth", "compression ratio 10995116277", "NET2NET_MAX_COMPRESSION_RATIO",
                      limits: limits)
    }

    // MARK: Deep and cyclic pickles

    /// A pickle nesting `depth` containers: `]`×n then `a`×(n−1) for lists,
    /// `)` then TUPLE1×(n−1) for tuples, `}` (key `}`)×(n−1) then SETITEM×(n−1) for dicts.
    static func deepPickle(_ kind: String, depth: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x80, 0x02]
        switch kind {
        case "list":
            bytes += [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1)
        case "tuple":
            bytes += [0x29] + [UInt8](repeating: 0x85, count: depth - 1)
        default:
            bytes += [0x7D]
            for _ in 1..<depth { bytes += [0x4B, 0x00, 0x7D] }
            bytes += [UInt8](repeating: 0x73, count: depth - 1)
        }
        return bytes + [0x2E]
    }

    /// A legacy checkpoint whose object is `object`.
    static func legacyCheckpoint(_ object: [UInt8]) -> [UInt8] {
        PyTorchLegacyFormat.magic + [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E] + [0x80, 0x02, 0x7D, 0x2E]
            + object + [0x80, 0x02, 0x5D, 0x2E]
    }

    func testFiftyThousandDeepPicklesGiveACleanError() throws {
        for kind in ["list", "tuple", "dict"] {
            let url = try fixture("deep_\(kind).pth", Self.legacyCheckpoint(Self.deepPickle(kind, depth: 50_000)))
            assertFormatError(try PyTorchCheckpoint.load(url, limits: .defaults), path: url,
                              contains: ["pickle nesting depth 101 exceeds the limit 100", "NET2NET_MAX_PICKLE_DEPTH"])
        }
    }

    /// With the depth limit out of the way, the 50 000-deep trees are built
    /// in full and freed when the machine goes away; a recursive release
    /// would overflow the stack and end the test process.
    func testFiftyThousandDeepTreesAreFreedWithoutRecursion() throws {
        var limits = FormatLimits.defaults
        limits.pickleDepth = 100_000
        for kind in ["list", "tuple", "dict"] {
            let pickle = Self.deepPickle(kind, depth: 50_000)
            try pickle.withUnsafeBytes { bytes in
                var machine = PickleMachine(bytes, path: "deep.pkl", limits: limits)
                let object = try machine.run().object
                XCTAssertEqual(object.depth, 50_000, kind)
            }
        }
    }

    func testAListCannotBeChangedOnceNestedSoNoCycleForms() throws {
        // ] q0 ( h0 t   → list L memoised, tuple (L,) nests it;   0 pops the tuple;
        // h0 h0 a       → append L to itself: refused.
        let pickle: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
        try pickle.withUnsafeBytes { bytes in
            var machine = PickleMachine(bytes, path: "cycle.pkl", limits: .defaults)
            XCTAssertThrowsError(try machine.run()) { error in
                XCTAssertTrue((error as? FormatError)?.problem.contains("puts it inside itself") == true, "\(error)")
            }
        }
        let nested: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x85, 0x30, 0x68, 0x00, 0x4B, 0x01, 0x61, 0x2E]
        try nested.withUnsafeBytes { bytes in
            var machine = PickleMachine(bytes, path: "nested.pkl", limits: .defaults)
            XCTAssertThrowsError(try machine.run()) { error in
                XCTAssertTrue((error as? FormatError)?.problem.contains("already nested") == true, "\(error)")
            }
        }
    }

    func testPickleStackAndMemoLimits() throws {
        var limits = FormatLimits.defaults
        limits.pickleStack = 10
        let pushes: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x4E, count: 11) + [0x2E]
        let url = try fixture("stack.pth", Self.legacyCheckpoint(pushes))
        assertFormatError(try PyTorchCheckpoint.load(url, limits: limits), path: url,
                          contains: ["pickle stack entries 11 exceeds the limit 10"])
        limits = .defaults
        limits.pickleMemo = 2
        let memo: [UInt8] = [0x80, 0x02, 0x4E, 0x94, 0x94, 0x94, 0x2E]
        let memoURL = try fixture("memo.pth", Self.legacyCheckpoint(memo))
        assertFormatError(try PyTorchCheckpoint.load(memoURL, limits: limits), path: memoURL,
                          contains: ["pickle memo entries 3 exceeds the limit 2"])
    }

}
