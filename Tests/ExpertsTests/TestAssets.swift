import Experts
import Foundation
import XCTest

/// Where the tests find the real pretrained assets: fetched once through the
/// AssetStore (cached under $NET2NET_HOME, default ~/.cache/net2net).
enum TestAssets {
    nonisolated(unsafe) private static var fetched: [String: Result<URL, Error>] = [:]
    private static let lock = NSLock()

    /// The folder of asset `name`, fetching it on first use. Skips the test,
    /// saying why, only when the asset truly cannot be fetched.
    static func directory(_ name: String) throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if fetched[name] == nil {
            fetched[name] = Result {
                try AssetStore().directory(for: name) { message in
                    FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
                }
            }
        }
        switch fetched[name]! {
        case .success(let url): return url
        case .failure(let error):
            if case ExpertError.fetchFailed = error {
                let reason = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                FileHandle.standardError.write(Data("skipping: \(reason)\n".utf8))
                throw XCTSkip(reason)
            }
            throw error
        }
    }

    /// The unpacked all-MiniLM-L6-v2 model folder (model.safetensors, vocab.txt, config.json).
    static func minilmDirectory() throws -> URL { try directory("minilm") }

    /// A file next to the tests in Fixtures/.
    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }
}
