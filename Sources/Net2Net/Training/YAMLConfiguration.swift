import Foundation
import Yams

/// A settings struct read from a YAML mapping plus `key=value` overrides.
/// Keys not given keep the struct's defaults; unknown keys, ill-typed values
/// and values that fail `problems` are errors naming the source and the key.
public protocol YAMLConfigurable: Codable, Sendable {
    init()
    /// Every accepted key.
    static var keys: [String] { get }
    /// Problems with the values, as sentences naming the key.
    var problems: [String] { get }
    /// The values an enumeration key accepts, for the error when another is
    /// given (nil for other keys; the default).
    static func choices(for key: String) -> [String]?
}

extension YAMLConfigurable {
    public static func choices(for key: String) -> [String]? { nil }

    /// Reads `yaml` (nil: defaults only), then applies `overrides`.
    public static func load(yaml: String?, source: String = "config", overrides: [String] = []) throws -> Self {
        try from(YAMLSettings.values(yaml: yaml, source: source, overrides: overrides), source: source)
    }

    /// The defaults overlaid with `values` (keys to YAML scalars). Unknown
    /// keys, ill-typed values and values that break `problems` are errors
    /// naming `source` and the key.
    public static func from(_ values: [String: Any], source: String = "config") throws -> Self {
        for key in values.keys where !keys.contains(key) {
            throw Net2NetError.configuration("\(source): unknown key '\(key)'; known keys: \(keys.sorted().joined(separator: ", "))")
        }
        // Defaults, overlaid with the given values, through JSON into the struct.
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self())) as? [String: Any] ?? [:]
        var merged = defaults
        for (key, value) in values {
            // YAML 1.1 reads "5e-7" (no dot) as a string; a number is meant where the default is one.
            if let text = value as? String, let number = Double(text), defaults[key] is NSNumber {
                merged[key] = number
            } else {
                merged[key] = value is NSNull ? nil : value
            }
        }
        let settings: Self
        do {
            settings = try JSONDecoder().decode(Self.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Net2NetError.configuration("\(source): '\(key)' must be \(describe(type)), got \(values[key].map { "\($0)" } ?? "nothing")")
        } catch let DecodingError.dataCorrupted(context) {
            var key = context.codingPath.map(\.stringValue).joined(separator: ".")
            var reason = context.debugDescription
            if key.isEmpty {
                reason = "out of range"
                // A number that does not fit its field (e.g. a negative seed) is reported without a
                // path; the negative numbers given are the suspects.
                let negative = values.filter { (($0.value as? NSNumber)?.doubleValue ?? 0) < 0 }.keys.sorted()
                key = negative.joined(separator: "', '")
            }
            let given = values[key].map { "\($0)" } ?? "nothing"
            if let choices = choices(for: key) {
                throw Net2NetError.configuration("\(source): '\(key)' must be one of \(choices.joined(separator: ", ")), got \(given)")
            }
            throw Net2NetError.configuration("\(source): '\(key)' cannot be \(given) (\(reason))")
        } catch {
            throw Net2NetError.configuration("\(source): \(error)")
        }
        let problems = settings.problems
        if !problems.isEmpty { throw Net2NetError.configuration("\(source): " + problems.joined(separator: "; ")) }
        return settings
    }

    /// The settings as one line of JSON with sorted keys (for checkpoint metadata).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Reading settings: a YAML mapping of keys to scalars, then `key=value` overrides.
public enum YAMLSettings {
    /// The mapping in `yaml` (nil: empty) with `overrides` applied; values are
    /// YAML scalars (an override's value is parsed as YAML too).
    public static func values(yaml: String?, source: String, overrides: [String]) throws -> [String: Any] {
        var values: [String: Any] = [:]
        if let yaml {
            let parsed: Any?
            do { parsed = try Yams.load(yaml: yaml) } catch {
                throw Net2NetError.configuration("\(source): not valid YAML: \(error)")
            }
            if let parsed {
                guard let mapping = parsed as? [String: Any] else {
                    throw Net2NetError.configuration("\(source): expected a mapping of keys to values at the top level")
                }
                values = mapping
            }
        }
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                throw Net2NetError.configuration("override '\(override)': expected key=value")
            }
            let key = String(override[..<equals]).trimmingCharacters(in: .whitespaces)
            let raw = String(override[override.index(after: equals)...])
            values[key] = (try? Yams.load(yaml: raw)).flatMap { $0 } ?? raw
        }
        return values
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is UInt64.Type: return "an integer"
    case is Float.Type, is Double.Type: return "a number"
    case is Bool.Type: return "true or false"
    case is String.Type: return "a string"
    default: return "a \(type)"
    }
}
