import Foundation
import TensorCore

/// Reading PyTorch checkpoints (`torch.save` files, `.pth`/`.pt`), safely.
///
/// Both containers are handled, told apart by their first bytes:
/// - zip (`PK\x03\x04`, the default since torch 1.6): the pickle is
///   `<archive>/data.pkl`, storage `k` is `<archive>/data/k`;
/// - legacy (`\x80`, `_use_new_zipfile_serialization=False`): see
///   `PyTorchLegacyFormat`.
///
/// The pickle is interpreted by `PickleMachine`, which builds only plain data,
/// OrderedDicts and tensors and refuses every other Python global with
/// `FormatError.disallowedGlobal` — a checkpoint cannot run code here.
/// Tensors are copied out of their storages honouring offset and strides
/// (transposed or sliced views are fine) and converted: floating-point types to
/// Float32 `Tensor`, integer and bool types to `[Int64]`.
public enum PyTorchCheckpoint {
    /// The two containers `torch.save` writes.
    public enum Format: String, Sendable {
        case zip, legacy
    }

    /// A decoded checkpoint: its container and the pickled object.
    public struct Contents: Sendable {
        public let format: Format
        public let root: Value

        /// Every tensor with its dotted name (`netG_state_dict.main.0.weight`),
        /// in file order; see `Value.tensors(prefix:)`.
        public var tensors: [(name: String, tensor: PyTorchTensor)] { root.tensors() }
    }

    /// Reads and decodes `url`.
    public static func load(_ url: URL) throws -> Contents {
        let file = try MappedFile(url)
        let bytes = file.bytes
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 {
            let (object, storages) = try PyTorchZipFormat.read(bytes, path: file.path)
            return Contents(format: .zip, root: try convert(object, storages, path: file.path))
        }
        if bytes[0] == 0x80 {
            let (object, storages) = try PyTorchLegacyFormat.read(bytes, path: file.path)
            return Contents(format: .legacy, root: try convert(object, storages, path: file.path))
        }
        throw FormatError.badMagic(path: file.path, format: "PyTorch checkpoint (zip or legacy pickle)")
    }

    /// The tensors of `url` flattened to dotted names, in file order.
    ///
    /// With `prefix` (e.g. `"netG_state_dict"` or `"state_dict"`), only the
    /// tensors under that entry, with the prefix and its dot removed; a
    /// prefix that names no tensor is `FormatError.tensorNotFound`.
    public static func stateDict(_ url: URL, prefix: String? = nil) throws -> [(name: String, value: TensorValue)] {
        let all = try load(url).tensors
        guard let prefix else { return all.map { ($0.name, $0.tensor.value) } }
        let selected: [(name: String, value: TensorValue)] = all.compactMap { entry in
            guard entry.name.hasPrefix(prefix + ".") else { return nil }
            return (String(entry.name.dropFirst(prefix.count + 1)), entry.tensor.value)
        }
        guard !selected.isEmpty else { throw FormatError.tensorNotFound(path: displayPath(url), name: prefix + ".*") }
        return selected
    }

    /// Turns the interpreter's objects into `Value`s, copying each tensor out
    /// of its storage (`storages` gives a storage's bytes by key).
    static func convert(_ object: PickleObject, _ storages: (StorageReference) throws -> UnsafeRawBufferPointer,
                        path: String) throws -> Value {
        var budget = 10_000_000  // objects, so that memo references cannot blow up the tree
        func walk(_ object: PickleObject, _ name: String, depth: Int) throws -> Value {
            budget -= 1
            guard budget > 0, depth < 1000 else {
                throw FormatError.malformedPickle(path: path, reason: "object graph too large or cyclic")
            }
            func child(_ object: PickleObject, _ key: String) throws -> Value {
                try walk(object, name.isEmpty ? key : name + "." + key, depth: depth + 1)
            }
            switch object {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .float(let d): return .float(d)
            case .string(let s): return .string(s)
            case .bytes(let b): return .bytes(b)
            case .tuple(let items):
                return .tuple(try items.enumerated().map { try child($0.element, String($0.offset)) })
            case .list(let list):
                return .list(try list.items.enumerated().map { try child($0.element, String($0.offset)) })
            case .dict(let dict):
                return .dict(try dict.entries.map { entry in
                    let key = try walk(entry.key, name, depth: depth + 1)
                    return Value.Entry(key: key, value: try child(entry.value, key.dottedKey ?? "?"))
                })
            case .tensor(let reference):
                let data = try storages(reference.storage)
                return .tensor(try reference.materialise(data, path: path, name: name))
            case .global(let global):
                throw FormatError.malformedPickle(path: path, reason: "'\(name)' is \(global.name) itself, not data")
            case .storage(let storage):
                throw FormatError.malformedPickle(path: path, reason: "'\(name)' is a bare storage ('\(storage.key)')")
            }
        }
        return try walk(object, "", depth: 0)
    }
}
