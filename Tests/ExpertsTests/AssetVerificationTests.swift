import XCTest
@testable import Experts
#if canImport(Glibc)
import Glibc
#endif

/// The cache's location, full verification with repair, and the age after
/// which a use re-hashes everything. The asset is a small made-up Debian
/// package whose "installed" files lie in a temporary root, so a repair
/// copies them again without any download.
final class AssetVerificationTests: XCTestCase {
    func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-verify-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A cached copy of a two-file asset; returns the store and the asset.
    func cachedAsset(environment: [String: String] = [:]) throws -> (AssetStore, AssetDescription) {
        let root = temporaryFolder()
        var files: [AssetFile] = []
        for (name, text) in [("a.txt", String(repeating: "the quick brown fox ", count: 50)), ("b.txt", "jumps\n")] {
            let data = Data(text.utf8)
            let path = "usr/share/tiny/\(name)"
            try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/share/tiny"), withIntermediateDirectories: true)
            try data.write(to: root.appendingPathComponent(path))
            files.append(AssetFile(archivePath: path, name: name, size: data.count, sha256: SHA256.hex(data)))
        }
        let asset = AssetDescription(name: "tiny", summary: "test asset", source: .debian(package: "net2net-tiny-test"), files: files)
        let store = AssetStore(home: temporaryFolder(), environment: environment)
        store.installedRoot = root
        try store.fetch(asset)
        return (store, asset)
    }

    /// Flips one byte of `name` and restores its modification time, so that size and time still match the record.
    func flipByte(_ name: String, of asset: AssetDescription, in store: AssetStore) throws -> URL {
        let url = store.cacheDirectory(asset).appendingPathComponent(name)
        var before = stat()
        XCTAssertEqual(stat(url.path, &before), 0)
        var bytes = try Data(contentsOf: url)
        bytes[3] ^= 0x01
        try bytes.write(to: url)
        // The exact (nanosecond) times, as `touch -r` would restore them.
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, url.path, &times, 0), 0)
        return url
    }

    func testVerifyFindsAFlippedByteWithItsTimeRestoredAndRepairsIt() throws {
        let (store, asset) = try cachedAsset()
        let damaged = try flipByte("a.txt", of: asset, in: store)
        // The fast path (size and time) cannot see it...
        XCTAssertEqual(store.status(asset), .cached(store.cacheDirectory(asset)))
        // ...a full verification does, and fetches the asset again.
        let result = store.verify(asset)
        XCTAssertEqual(result.outcome, .repaired, "\(result.problems)")
        XCTAssertEqual(result.problems.count, 1)
        XCTAssertTrue(result.problems[0].contains("a.txt") && result.problems[0].contains("SHA-256"), result.problems[0])
        XCTAssertEqual(SHA256.hex(try Data(contentsOf: damaged)), asset.files[0].sha256)
        XCTAssertEqual(store.verify(asset).outcome, .ok)
        // Without repair, damage is reported as a failure.
        _ = try flipByte("b.txt", of: asset, in: store)
        XCTAssertEqual(store.verify(asset, repair: false).outcome, .failed)
        XCTAssertEqual(store.verify(AssetDescription(name: "absent", summary: "", source: .debian(package: "x"), files: [])).outcome,
                       .missing)
    }

    func testAnOldVerificationTriggersAFullRehash() throws {
        // NET2NET_VERIFY_AFTER_DAYS=0: every use hashes every file.
        var (store, asset) = try cachedAsset(environment: ["NET2NET_VERIFY_AFTER_DAYS": "0"])
        _ = try flipByte("a.txt", of: asset, in: store)
        guard case .invalid(let reason) = store.status(asset) else { return XCTFail("the flipped byte went unnoticed") }
        XCTAssertTrue(reason.contains("a.txt") && reason.contains("SHA-256"), reason)

        // The default (30 days): a record verified now takes the fast path; one verified 31 days ago is re-hashed.
        (store, asset) = try cachedAsset()
        XCTAssertEqual(store.verifyAfter, 30 * 86_400)
        _ = try flipByte("a.txt", of: asset, in: store)
        XCTAssertEqual(store.status(asset), .cached(store.cacheDirectory(asset)))
        let record = store.cacheDirectory(asset).appendingPathComponent(AssetStore.recordName)
        let old = Date().timeIntervalSince1970 - 31 * 86_400
        let lines = try String(contentsOf: record, encoding: .utf8).split(separator: "\n")
            .map { $0.hasPrefix(AssetStore.verifiedAtKey) ? "\(AssetStore.verifiedAtKey)\t\(old)" : String($0) }
        XCTAssertTrue(lines.contains("\(AssetStore.verifiedAtKey)\t\(old)"), "the record has no verification time")
        try (lines.joined(separator: "\n") + "\n").write(to: record, atomically: true, encoding: .utf8)
        guard case .invalid = store.status(asset) else { return XCTFail("an old verification did not trigger a re-hash") }
        // A clean re-hash renews the time, so the next use takes the fast path again.
        (store, asset) = try cachedAsset()
        let cleanRecord = store.cacheDirectory(asset).appendingPathComponent(AssetStore.recordName)
        let aged = try String(contentsOf: cleanRecord, encoding: .utf8).split(separator: "\n")
            .map { $0.hasPrefix(AssetStore.verifiedAtKey) ? "\(AssetStore.verifiedAtKey)\t\(old)" : String($0) }
        try (aged.joined(separator: "\n") + "\n").write(to: cleanRecord, atomically: true, encoding: .utf8)
        XCTAssertTrue(store.needsFullCheck(record: try String(contentsOf: cleanRecord, encoding: .utf8), at: cleanRecord))
        XCTAssertEqual(store.status(asset), .cached(store.cacheDirectory(asset)))
        XCTAssertFalse(store.needsFullCheck(record: try String(contentsOf: cleanRecord, encoding: .utf8), at: cleanRecord))
    }

    func testTheCacheFollowsTheEnvironment() {
        XCTAssertEqual(AssetStore(environment: ["HOME": "/h"]).home.path, "/h/.cache/net2net")
        XCTAssertEqual(AssetStore(environment: ["HOME": "/h", "XDG_CACHE_HOME": "/x"]).home.path, "/x/net2net")
        XCTAssertEqual(AssetStore(environment: ["HOME": "/h", "XDG_CACHE_HOME": "/x", "NET2NET_HOME": "/n"]).home.path, "/n")
        XCTAssertEqual(AssetStore(environment: ["HOME": "/h", "NET2NET_HOME": ""]).home.path, "/h/.cache/net2net")
        // HOME unset: the account's home from the password database.
        XCTAssertEqual(AssetStore(environment: [:]).home.path,
                       FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/net2net").path)
    }
}
