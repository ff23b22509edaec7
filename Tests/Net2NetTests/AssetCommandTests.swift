import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `net2net assets`: where the cache is, and `assets verify` finding and
/// repairing a damaged file that the size-and-time check cannot see.
final class AssetCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        try CLI.requireExecutable()
        directory = temporaryDirectory(name)
    }

    /// Runs net2net with the cache variables unset except those in `environment`.
    func run(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        var variables: [String: String?] = ["NET2NET_HOME": nil, "XDG_CACHE_HOME": nil, "HOME": nil]
        for (key, value) in environment { variables[key] = value }
        return try CLI.run(arguments, in: directory, threads: false, environment: variables)
    }

    /// Fashion-MNIST comes from an installed Debian package, so a repair copies it again without a download.
    func testVerifyRepairsAFlippedByteWhoseTimeWasRestored() throws {
        let home = ["NET2NET_HOME": directory.appendingPathComponent("cache").path]
        let fetched = try run(["assets", "fetch", "fashion-mnist"], environment: home)
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        let folder = directory.appendingPathComponent("cache/assets/fashion-mnist")
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().first { !$0.hasPrefix(".") })
        let file = folder.appendingPathComponent(name)
        var before = stat()
        XCTAssertEqual(stat(file.path, &before), 0)
        let handle = try FileHandle(forUpdating: file)
        try handle.seek(toOffset: 1000)
        var byte = try XCTUnwrap(handle.readData(ofLength: 1).first)
        byte ^= 0x40
        try handle.seek(toOffset: 1000)
        handle.write(Data([byte]))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, file.path, &times, 0), 0)

        let listed = try run(["assets", "list", "--json"], environment: home)
        XCTAssertTrue(listed.stdout.contains("\"status\":\"cached\""), "the fast path should not see it: \(listed.stdout)")
        let verified = try run(["assets", "verify", "fashion-mnist", "--json"], environment: home)
        XCTAssertEqual(verified.status, 0, verified.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any]
        let asset = try XCTUnwrap((json?["assets"] as? [[String: Any]])?.first)
        XCTAssertEqual(asset["outcome"] as? String, "repaired", verified.stdout)
        let problems = asset["problems"] as? [String] ?? []
        XCTAssertTrue(problems.count == 1 && problems[0].contains(name) && problems[0].contains("SHA-256"), "\(problems)")
        let again = try run(["assets", "verify", "fashion-mnist"], environment: home)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout, "fashion-mnist: ok\n")
    }

    func testTheAssetCacheFollowsTheEnvironment() throws {
        func home(_ environment: [String: String]) throws -> String {
            let listed = try run(["assets", "list", "--json"], environment: environment)
            return (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["home"] as? String ?? ""
        }
        let base = directory.path
        XCTAssertEqual(try home(["HOME": base]), base + "/.cache/net2net")
        XCTAssertEqual(try home(["HOME": base, "XDG_CACHE_HOME": base + "/xdg"]), base + "/xdg/net2net")
        XCTAssertEqual(try home(["HOME": base, "XDG_CACHE_HOME": base + "/xdg", "NET2NET_HOME": base + "/n2n"]), base + "/n2n")
    }
}
