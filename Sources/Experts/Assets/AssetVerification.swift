import Foundation

/// Full verification of the cache: every file hashed against its registered
/// SHA-256, on demand (`verify`) or when the last full check is too old.
extension AssetStore {
    static let verifiedAtKey = "#verified"
    /// Days after which a use re-hashes every file (`NET2NET_VERIFY_AFTER_DAYS`).
    public static let defaultVerifyAfterDays = 30.0

    /// The re-hash interval: `$NET2NET_VERIFY_AFTER_DAYS` (a number ≥ 0), else 30 days.
    public var verifyAfter: TimeInterval {
        let days = environment["NET2NET_VERIFY_AFTER_DAYS"].flatMap(Double.init).flatMap { $0 >= 0 ? $0 : nil }
            ?? AssetStore.defaultVerifyAfterDays
        return days * 86_400
    }

    /// Checks a cached folder: the record exists, every file is present with
    /// its size; files whose size or time changed since the record are hashed again.
    func verifyCached(_ asset: AssetDescription, in directory: URL) throws {
        let recordURL = directory.appendingPathComponent(AssetStore.recordName)
        guard let record = try? String(contentsOf: recordURL, encoding: .utf8) else {
            throw ExpertError.badAsset(path: directory.path, problem: "no verification record (an interrupted fetch?)")
        }
        var recorded: [String: (sha: String, size: Int, modified: Double)] = [:]
        for line in record.split(separator: "\n") {
            let parts = line.split(separator: "\t").map(String.init)
            if parts.count == 4, let size = Int(parts[2]), let modified = Double(parts[3]) {
                recorded[parts[0]] = (parts[1], size, modified)
            }
        }
        let fullCheck = needsFullCheck(record: record, at: recordURL)
        var rehashed = false
        for file in asset.files {
            let url = directory.appendingPathComponent(file.name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else {
                throw ExpertError.badAsset(path: url.path, problem: "missing from the cache")
            }
            let size = attributes[.size] as? Int ?? -1
            guard size == file.size else {
                throw ExpertError.badAsset(path: url.path, problem: "has \(size) bytes, expected \(file.size) (truncated or replaced)")
            }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            if !fullCheck, let entry = recorded[file.name], entry.sha == file.sha256, entry.size == size, entry.modified == modified {
                continue
            }
            let found = try SHA256.hex(file: url)
            guard found == file.sha256 else {
                throw ExpertError.hashMismatch(path: url.path, expected: file.sha256, found: found)
            }
            rehashed = true
        }
        if rehashed { try writeRecord(asset, in: directory) }
    }

    /// Whether a record's last full check (its `#verified` line, else the
    /// record file's time) is older than `verifyAfter`.
    func needsFullCheck(record: String, at url: URL) -> Bool {
        var verifiedAt: Double? = nil
        for line in record.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, parts[0] == AssetStore.verifiedAtKey { verifiedAt = Double(parts[1]) }
        }
        if verifiedAt == nil {
            verifiedAt = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date)?
                .timeIntervalSince1970
        }
        guard let verifiedAt else { return true }
        return Date().timeIntervalSince1970 - verifiedAt >= verifyAfter
    }

    /// What `verify` found for one asset.
    public struct VerificationResult: Sendable, Equatable {
        public enum Outcome: String, Sendable {
            /// Every file matched its SHA-256.
            case ok
            /// Not cached; nothing to check.
            case missing
            /// `NET2NET_ASSET_<NAME>` points elsewhere; those files are checked but not repaired.
            case overridden
            /// Damaged, then fetched again and verified.
            case repaired
            /// Damaged, and fetching it again failed.
            case failed
        }
        public let name: String
        public let outcome: Outcome
        /// The problems found (file and what was wrong), and a failed repair's reason.
        public let problems: [String]
    }

    /// Re-hashes every file of `asset` against its registered SHA-256 and,
    /// when a cached copy is damaged, fetches it again (`repair`).
    public func verify(_ asset: AssetDescription, repair: Bool = true,
                       progress: (String) -> Void = { _ in }) -> VerificationResult {
        let overridden = environment[asset.overrideVariable].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        let directory = overridden ?? cacheDirectory(asset)
        guard FileManager.default.fileExists(atPath: directory.path) else {
            return VerificationResult(name: asset.name, outcome: .missing, problems: [])
        }
        progress("hashing \(asset.files.count) file(s) in \(directory.path)…")
        var problems: [String] = []
        for file in asset.files {
            let url = directory.appendingPathComponent(file.name)
            do {
                let found = try SHA256.hex(file: url)
                if found != file.sha256 { problems.append("\(url.path): SHA-256 \(found), expected \(file.sha256)") }
            } catch {
                problems.append("\(url.path): \((error as? LocalizedError)?.errorDescription ?? "unreadable")")
            }
        }
        if overridden != nil {
            return VerificationResult(name: asset.name, outcome: .overridden, problems: problems)
        }
        if problems.isEmpty {
            try? writeRecord(asset, in: directory)
            return VerificationResult(name: asset.name, outcome: .ok, problems: [])
        }
        guard repair else { return VerificationResult(name: asset.name, outcome: .failed, problems: problems) }
        progress("damaged; fetching \(asset.name) again…")
        do {
            try fetch(asset, progress: progress)
            return VerificationResult(name: asset.name, outcome: .repaired, problems: problems)
        } catch {
            return VerificationResult(name: asset.name, outcome: .failed,
                                      problems: problems + ["repair failed: \((error as? LocalizedError)?.errorDescription ?? "\(error)")"])
        }
    }
}
