import Foundation

/// A Hugging Face `config.json` read as a JSON object, with typed look-ups
/// whose errors are ``ExpertError/badAsset(path:problem:)`` naming the file
/// and the key.
struct ModelConfigFile {
    let url: URL
    private let json: [String: Any]

    /// Reads `url`; a missing or unreadable file, or anything but a JSON object, is an error.
    init(contentsOf url: URL) throws {
        self.url = url
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ExpertError.badAsset(path: url.path, problem: "file is missing")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ExpertError.badAsset(path: url.path, problem: "cannot read the model config (\(error.localizedDescription))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ExpertError.badAsset(path: url.path, problem: "not a JSON object")
        }
        self.json = json
    }

    /// A problem with this file.
    func error(_ problem: String) -> ExpertError { .badAsset(path: url.path, problem: problem) }

    /// `key`, which must be a whole number ≥ `minimum` (default 1); `fallback` when absent, if given.
    func integer(_ key: String, minimum: Int = 1, default fallback: Int? = nil) throws -> Int {
        guard let raw = json[key] else {
            if let fallback { return fallback }
            throw error("'\(key)' is missing")
        }
        guard let value = raw as? NSNumber, value.doubleValue == value.doubleValue.rounded(),
              value.intValue >= minimum else {
            throw error(minimum == 1 ? "'\(key)' is missing or not a positive integer"
                                     : "'\(key)' is not an integer ≥ \(minimum)")
        }
        return value.intValue
    }

    /// `key` as a positive number, nil when absent.
    func positiveNumber(_ key: String) throws -> Float? {
        guard let raw = json[key] else { return nil }
        guard let number = raw as? NSNumber, number.doubleValue > 0 else {
            throw error("'\(key)' is not a positive number")
        }
        return number.floatValue
    }

    /// The checks every encoder we run shares: the width splits evenly into
    /// heads, and the feed-forward activation is the exact GELU.
    func checkEncoderLayers(hiddenSize: Int, headCount: Int) throws {
        guard hiddenSize % headCount == 0 else {
            throw error("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
        let activation = try text("hidden_act", default: "gelu")
        guard activation == "gelu" else {
            throw error("hidden_act '\(activation)' is not supported (only exact 'gelu')")
        }
    }

    /// `key` as a string, `fallback` when absent.
    func text(_ key: String, default fallback: String) throws -> String {
        guard let value = json[key] else { return fallback }
        guard let string = value as? String else { throw error("'\(key)' is not a string") }
        return string
    }
}
