import Foundation

extension PyTorchCheckpoint {
    /// A value of a checkpoint's pickled object: Python data and tensors.
    /// Dicts (and OrderedDicts) keep their insertion order.
    public indirect enum Value: Equatable, Sendable {
        case none
        case bool(Bool)
        case int(Int64)
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case list([Value])
        case tuple([Value])
        case dict([Entry])
        case tensor(PyTorchTensor)

        /// One key–value pair of a dict.
        public struct Entry: Equatable, Sendable {
            public let key: Value
            public let value: Value
        }

        /// The value under string key `key` of a dict; nil otherwise.
        public subscript(key: String) -> Value? {
            guard case .dict(let entries) = self else { return nil }
            return entries.first { $0.key == .string(key) }?.value
        }

        /// The tensor, when this is one.
        public var tensor: PyTorchTensor? {
            if case .tensor(let tensor) = self { return tensor }
            return nil
        }

        /// The key as used in a dotted name: strings and integers (optimizer
        /// states use integer keys); nil for other keys.
        var dottedKey: String? {
            switch self {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: return nil
            }
        }

        /// Every tensor below this value with its dotted path, in order:
        /// dict keys (strings, integers) and list/tuple indices joined by
        /// dots, after `prefix`. Tensors under other keys are skipped.
        public func tensors(prefix: String = "") -> [(name: String, tensor: PyTorchTensor)] {
            var result: [(name: String, tensor: PyTorchTensor)] = []
            func visit(_ value: Value, _ name: String) {
                func join(_ key: String) -> String { name.isEmpty ? key : name + "." + key }
                switch value {
                case .tensor(let tensor): result.append((name, tensor))
                case .dict(let entries):
                    for entry in entries {
                        if let key = entry.key.dottedKey { visit(entry.value, join(key)) }
                    }
                case .list(let items), .tuple(let items):
                    for (index, item) in items.enumerated() { visit(item, join(String(index))) }
                default: break
                }
            }
            visit(self, prefix)
            return result
        }
    }
}
