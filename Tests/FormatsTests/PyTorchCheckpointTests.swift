import Foundation
import TensorCore
import XCTest
@testable import Formats

/// PyTorch checkpoints written by torch 2.13 (scripts/fixtures/make_pytorch_fixtures.py)
/// read back exactly, in both containers; hostile and damaged files are refused
/// with a message naming the file.
final class PyTorchCheckpointTests: FormatsTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures", isDirectory: true)
    static let marker = "/tmp/net2net-pwned-marker"

    func fixture(_ name: String) -> URL { Self.fixtures.appendingPathComponent(name) }

    struct Expected: Decodable {
        struct Entry: Decodable { let name: String; let dtype: String; let shape: [Int]; let values: [Double] }
        let tensors: [Entry]
    }

    func expected() throws -> [Expected.Entry] {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixture("checkpoint_expected.json"))).tensors
    }

    func assertMatchesExpected(_ url: URL, format: PyTorchCheckpoint.Format,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let contents = try PyTorchCheckpoint.load(url)
        XCTAssertEqual(contents.format, format, file: file, line: line)
        let tensors = contents.tensors
        let expected = try expected()
        XCTAssertEqual(tensors.map(\.name), expected.map(\.name), file: file, line: line)
        for (actual, want) in zip(tensors, expected) {
            XCTAssertEqual(actual.tensor.dtype.rawValue, want.dtype, actual.name, file: file, line: line)
            XCTAssertEqual(actual.tensor.shape, want.shape, actual.name, file: file, line: line)
            let values: [Double]
            switch actual.tensor.value {
            case .float32(let tensor): values = tensor.scalars.map(Double.init)
            case .int64(let ints, _): values = ints.map(Double.init)
            }
            // Every fixture value is exact in its dtype, and in Float32.
            XCTAssertEqual(values, want.values, actual.name, file: file, line: line)
        }
    }

    func testZipCheckpointMatchesTorch() throws {
        try assertMatchesExpected(fixture("checkpoint_zip.pth"), format: .zip)
    }

    func testLegacyCheckpointMatchesTorch() throws {
        try assertMatchesExpected(fixture("checkpoint_legacy.pth"), format: .legacy)
    }

    func testViewsSharedStoragesAndDTypes() throws {
        let root = try PyTorchCheckpoint.load(fixture("checkpoint_zip.pth")).root
        // transposed = arange(12).reshape(3, 4).t(): element [i, j] = 4j + i.
        let transposed = try XCTUnwrap(root["transposed"]?.tensor)
        XCTAssertEqual(transposed.value, .float32(Tensor(shape: [4, 3], scalars: [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])))
        XCTAssertEqual(root["slice"]?.tensor?.value, .float32(Tensor(shape: [4], scalars: [3, 4, 5, 6])))
        XCTAssertEqual(root["strided"]?.tensor?.value,
                       .float32(Tensor(shape: [3, 3], scalars: [5, 7, 9, 10, 12, 14, 15, 17, 19])))
        XCTAssertEqual(root["shared_a"]?.tensor?.value, .float32(Tensor(shape: [4], scalars: [0, 1, 2, 3])))
        XCTAssertEqual(root["shared_b"]?.tensor?.value, .float32(Tensor(shape: [2, 3], scalars: [2, 3, 4, 5, 6, 7])))
        XCTAssertEqual(root["param"]?.tensor?.value, .float32(Tensor(shape: [3], scalars: [0.5, 1.5, 2.5])))
        XCTAssertEqual(root["scalar"]?.tensor?.value, .float32(Tensor(shape: [], scalars: [2.5])))
        XCTAssertEqual(root["half"]?.tensor?.dtype, .float16)
        XCTAssertEqual(root["bfloat16"]?.tensor?.value, .float32(Tensor(shape: [4], scalars: [0, 2, 4, 6])))
        XCTAssertEqual(root["ids"]?.tensor?.value, .int64([-2, -1, 0, 1, 2], shape: [5]))
        XCTAssertEqual(root["uint8"]?.tensor?.value, .int64([250, 251, 252, 253], shape: [4]))
        XCTAssertEqual(root["netG_state_dict"]?["main.1.num_batches_tracked"]?.tensor?.value, .int64([7], shape: []))
    }

    func testPlainValuesKeepTheirTypesAndOrder() throws {
        let root = try PyTorchCheckpoint.load(fixture("checkpoint_legacy.pth")).root
        XCTAssertEqual(root["epoch"], .int(5))
        let meta = try XCTUnwrap(root["nested"]?["meta"])
        XCTAssertEqual(meta, .dict([.init(key: .string("lr"), value: .float(0.5)),
                                    .init(key: .string("name"), value: .string("hi")),
                                    .init(key: .string("flag"), value: .bool(true)),
                                    .init(key: .string("none"), value: .none)]))
        guard case .list(let list)? = root["nested"]?["list"] else { return XCTFail("nested.list is not a list") }
        XCTAssertEqual(list.count, 3)
        XCTAssertEqual(list[1], .int(1))
        XCTAssertEqual(list[2], .string("x"))
    }

    func testStateDictFlattensWithDottedNamesAndPrefix() throws {
        let all = try PyTorchCheckpoint.stateDict(fixture("checkpoint_zip.pth"))
        XCTAssertEqual(Array(all.map(\.name).prefix(4)), ["netG_state_dict.main.0.weight", "netG_state_dict.main.1.running_mean",
                                                          "netG_state_dict.main.1.num_batches_tracked", "half"])
        let generator = try PyTorchCheckpoint.stateDict(fixture("checkpoint_legacy.pth"), prefix: "netG_state_dict")
        XCTAssertEqual(generator.map(\.name), ["main.0.weight", "main.1.running_mean", "main.1.num_batches_tracked"])
        let weight = (0..<24).map { Float($0) / 10 }
        XCTAssertEqual(generator[0].value, .float32(Tensor(shape: [2, 3, 2, 2], scalars: weight)))
        XCTAssertEqual(generator[0].value.shape, [2, 3, 2, 2])
        let url = fixture("checkpoint_zip.pth")
        assertFormatError(try PyTorchCheckpoint.stateDict(url, prefix: "state_dict"), path: url,
                          contains: ["'state_dict.*' not found"])
    }

    func testBothContainersAgree() throws {
        let zip = try PyTorchCheckpoint.load(fixture("checkpoint_zip.pth")).root
        let legacy = try PyTorchCheckpoint.load(fixture("checkpoint_legacy.pth")).root
        XCTAssertEqual(zip, legacy)
    }

    // MARK: Hostile files

    func assertRefused(_ name: String, global: String, file: StaticString = #filePath, line: UInt = #line) {
        try? FileManager.default.removeItem(atPath: Self.marker)
        let url = fixture(name)
        let error = assertFormatError(try PyTorchCheckpoint.load(url), path: url,
                                      contains: ["refusing to load pickle global '\(global)'"], file: file, line: line)
        XCTAssertEqual(error, .disallowedGlobal(path: url.path, name: global), file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.marker), "the payload ran", file: file, line: line)
    }

    func testOsSystemIsRefusedWithoutRunning() {
        // Pickling os.system on Linux names it posix.system.
        assertRefused("hostile_os_system_legacy.pth", global: "posix.system")
        assertRefused("hostile_os_system_zip.pth", global: "posix.system")
    }

    /// With placeholders for unknown globals, the same hostile files load as
    /// inert values: the call is not made, its arguments are dropped.
    func testPlaceholdersNeverRun() throws {
        for name in ["hostile_os_system_legacy.pth", "hostile_os_system_zip.pth", "hostile_builtins_eval.pth"] {
            try? FileManager.default.removeItem(atPath: Self.marker)
            // Loading may still fail (the legacy file's payload is where its version number belongs).
            let contents = try? PyTorchCheckpoint.load(fixture(name), unknownGlobals: .placeholder)
            XCTAssertTrue(contents?.tensors.isEmpty ?? true, name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: Self.marker), "the payload ran: \(name)")
        }
        // GLOBAL, REDUCE, BUILD and NEWOBJ on a placeholder inside a dict, beside a plain value:
        // {"a": posix.system("x") with state {}, "b": 7, "c": collections.deque.__new__(deque)}
        var pickle: [UInt8] = [0x80, 0x02, 0x7D, 0x28]
        pickle += [0x8C, 1] + Array("a".utf8) + [0x63] + Array("posix\nsystem\n".utf8) + [0x8C, 1] + Array("x".utf8)
        pickle += [0x85, 0x52, 0x7D, 0x62]
        pickle += [0x8C, 1] + Array("b".utf8) + [0x4B, 7]
        pickle += [0x8C, 1] + Array("c".utf8) + [0x63] + Array("collections\ndeque\n".utf8) + [0x29, 0x81]
        pickle += [0x75, 0x2E]
        func read(_ policy: PyTorchCheckpoint.UnknownGlobals) throws -> PyTorchCheckpoint.Value {
            try pickle.withUnsafeBytes { raw in
                var machine = PickleMachine(raw, path: "placeholders.pkl", limits: .defaults, unknownGlobals: policy)
                let object = try machine.run().object
                return try PyTorchCheckpoint.convert(object, { _ in throw FormatError.malformedPickle(path: "", reason: "no storage") },
                                                     path: "placeholders.pkl", limits: .defaults)
            }
        }
        XCTAssertThrowsError(try read(.refuse)) { XCTAssertTrue("\($0.localizedDescription)".contains("'posix.system'"), "\($0)") }
        let value = try read(.placeholder)
        XCTAssertEqual(value["a"], PyTorchCheckpoint.Value.none)
        XCTAssertEqual(value["b"], PyTorchCheckpoint.Value.int(7))
        XCTAssertEqual(value["c"], PyTorchCheckpoint.Value.none)
    }

    func testBuiltinsEvalIsRefused() {
        assertRefused("hostile_builtins_eval.pth", global: "builtins.eval")
    }

    func testHandWrittenGlobalsAreRefused() throws {
        for (module, name) in [("os", "system"), ("__builtin__", "getattr"), ("torch", "load"), ("collections", "deque")] {
            let pickle: [UInt8] = [0x80, 0x02, 0x63] + Array("\(module)\n\(name)\n".utf8) + [0x29, 0x52, 0x2E]
            let url = try fixture("g.pth", Array(PyTorchLegacyFormat.magic) + pickle)
            // The legacy protocol-version record is the hostile pickle itself.
            assertFormatError(try PyTorchCheckpoint.load(url), path: url, contains: ["'\(module).\(name)'"])
        }
    }

    // MARK: Damaged files

    func testDamagedFiles() throws {
        let cases: [(String, [String])] = [
            ("truncated_zip.pth", ["truncated", "end-of-central-directory"]),
            ("truncated_legacy.pth", ["truncated", "storage"]),
            ("wrong_magic.pth", ["not a PyTorch checkpoint (zip or legacy pickle) file (bad magic)"]),
            ("compressed_zip.pth", ["malformed zip archive", "is compressed (method 8)"]),
            ("view_outside_storage.pth", ["tensor 'w'", "reaches element 4", "storage '0' holds 4 float32 elements"]),
            ("short_storage.pth", ["truncated: storage '0' should hold 4 float32 elements (16 bytes) but has 8 bytes"]),
        ]
        for (name, fragments) in cases {
            let url = fixture(name)
            assertFormatError(try PyTorchCheckpoint.load(url), path: url, contains: fragments)
        }
        let absent = file("absent.pth")
        assertFormatError(try PyTorchCheckpoint.load(absent), path: absent, contains: ["missing file"])
        let legacyMagicOnly = try fixture("magic.pth", PyTorchLegacyFormat.magic)
        assertFormatError(try PyTorchCheckpoint.load(legacyMagicOnly), path: legacyMagicOnly, contains: ["truncated"])
        let notAZip = try fixture("pk.pth", Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0, count: 40))
        assertFormatError(try PyTorchCheckpoint.load(notAZip), path: notAZip, contains: ["end-of-central-directory"])
    }

    func testEveryPrefixOfALegacyFileFailsCleanly() throws {
        let bytes = try bytes(of: fixture("checkpoint_legacy.pth"))
        for length in stride(from: 1, to: bytes.count, by: 7) {
            let url = try fixture("cut.pth", Array(bytes.prefix(length)))
            XCTAssertThrowsError(try PyTorchCheckpoint.load(url)) { error in
                XCTAssertTrue(error is FormatError, "\(length) bytes: \(error)")
            }
        }
    }

    func testEveryPrefixOfAZipFileFailsCleanly() throws {
        let bytes = try bytes(of: fixture("checkpoint_zip.pth"))
        for length in stride(from: 1, to: bytes.count, by: 13) {
            let url = try fixture("cut.pth", Array(bytes.prefix(length)))
            XCTAssertThrowsError(try PyTorchCheckpoint.load(url)) { error in
                XCTAssertTrue(error is FormatError, "\(length) bytes: \(error)")
            }
        }
    }
}
