import Foundation
import XCTest
@testable import Formats

/// The HDF5 reader against files written by h5py 3.16
/// (`scripts/fixtures/make_hdf5.py`): values and shapes, and refusal of every
/// feature outside the supported subset with the file's name.
final class HDF5FileTests: FormatsTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hdf5", isDirectory: true)

    func fixture(_ name: String) -> URL { Self.fixtures.appendingPathComponent(name) }

    struct Expected: Decodable {
        let shape: [Int]
        let values: [Float]
    }

    func expected(_ file: String) throws -> [String: Expected] {
        let all = try JSONDecoder().decode([String: [String: Expected]].self,
                                           from: Data(contentsOf: fixture("expected.json")))
        return try XCTUnwrap(all[file])
    }

    func testEveryDatasetReadsAsH5pyWroteIt() throws {
        for name in ["weights.h5", "many.h5"] {
            let file = try HDF5File(contentsOf: fixture(name))
            let expected = try expected(name)
            XCTAssertEqual(file.names, expected.keys.sorted(), name)
            for (dataset, value) in expected {
                let tensor = try file.tensor(dataset)
                XCTAssertEqual(tensor.shape, value.shape, "\(name) \(dataset)")
                XCTAssertEqual(file.shape(dataset), value.shape)
                XCTAssertEqual(tensor.scalars, value.values, "\(name) \(dataset)")
            }
        }
    }

    func testGroupsWithoutDatasetsAndAttributesAreSkipped() throws {
        let file = try HDF5File(contentsOf: fixture("weights.h5"))
        XCTAssertNil(file.shape("block1/layers/max_pooling2d/vars"))
        XCTAssertNil(file.shape("block1/layers/conv2d/vars"))
        assertFormatError(try file.tensor("block1/layers/conv2d/vars/2"), path: fixture("weights.h5"),
                          contains: ["tensor 'block1/layers/conv2d/vars/2' not found"])
    }

    func testUnsupportedFeaturesAreRefusedByName() {
        let cases: [(String, [String])] = [
            ("chunked.h5", ["chunked storage in dataset 'w'", "does not support"]),
            ("gzip.h5", ["filters (compression) in dataset 'w'"]),
            ("float64.h5", ["float of 8 bytes", "little-endian IEEE float32"]),
            ("int32.h5", ["integer of 4 bytes"]),
            ("bigendian.h5", ["float of 4 bytes, big-endian"]),
            ("latest.h5", ["superblock version 3", "libver"]),
            ("badmagic.h5", ["not a HDF5 file"]),
        ]
        for (name, fragments) in cases {
            assertFormatError(try HDF5File(contentsOf: fixture(name)), path: fixture(name), contains: fragments)
        }
    }

    func testTruncatedAndLimitedFilesAreRefused() {
        assertFormatError(try HDF5File(contentsOf: fixture("truncated.h5")), path: fixture("truncated.h5"),
                          contains: ["outside the file"])
        var limits = FormatLimits.defaults
        limits.tensorElements = 20
        assertFormatError(try HDF5File(contentsOf: fixture("weights.h5"), limits: limits), path: fixture("weights.h5"),
                          contains: ["dataset 'block1/layers/conv2d/vars/0' (3×3×2×4)", "NET2NET_MAX_TENSOR_ELEMENTS"])
        limits = .defaults
        limits.fileElements = 50
        assertFormatError(try HDF5File(contentsOf: fixture("weights.h5"), limits: limits), path: fixture("weights.h5"),
                          contains: ["tensor elements per file"])
        assertFormatError(try HDF5File(contentsOf: fixture("missing.h5")), path: fixture("missing.h5"),
                          contains: ["missing file"])
    }

    /// Every single-byte change of the metadata either still parses (then
    /// every dataset lies inside the file) or is a `FormatError` — never a
    /// trap or a read outside the bytes.
    func testEveryCorruptedMetadataByteGivesAnErrorOrAValidIndex() throws {
        let original = try bytes(of: fixture("weights.h5"))
        var refused = 0
        for position in 0..<min(original.count, 4096) {
            for value: UInt8 in [0x00, 0xFF, original[position] ^ 0x01] where value != original[position] {
                var bytes = original
                bytes[position] = value
                try bytes.withUnsafeBytes { buffer in
                    do {
                        let index = try HDF5Index.parse(buffer, path: "corrupt.h5", limits: .defaults)
                        for dataset in index.datasets.values {
                            XCTAssertLessThanOrEqual(dataset.data.upperBound, buffer.count)
                        }
                    } catch let error as FormatError {
                        XCTAssertEqual(error.path, "corrupt.h5")
                        refused += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(refused, 1000)
    }
}
