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

    /// What the reader does with a Python global outside its allow-list
    /// (a class or function other than OrderedDict, tensor rebuilding and
    /// storage classes).
    public enum UnknownGlobals: Sendable {
        /// Refuse the file (`FormatError.disallowedGlobal`): the default.
        case refuse
        /// Keep an inert placeholder, which reads as `Value.none`, for the
        /// global and for every object built from it (its arguments are
        /// dropped; nothing is ever called). For files that hold plain
        /// tensors beside other objects, such as a PyTorch Lightning
        /// checkpoint's callback states keyed by class.
        case placeholder
    }

    /// A decoded checkpoint: its container and the pickled object.
    public struct Contents: Sendable {
        public let format: Format
        public let root: Value

        /// Every tensor with its dotted name (`netG_state_dict.main.0.weight`),
        /// in file order; see `Value.tensors(prefix:)`.
        public var tensors: [(name: String, tensor: PyTorchTensor)] { root.tensors() }
    }

    /// Reads and decodes `url`, refusing pickles and tensors above `limits`.
    public static func load(_ url: URL, limits: FormatLimits = .fromEnvironment(),
                            unknownGlobals: UnknownGlobals = .refuse) throws -> Contents {
        let file = try MappedFile(url)
        return try load(file.bytes, path: file.path, limits: limits, unknownGlobals: unknownGlobals)
    }

    /// Decodes the whole-file `bytes`; `path` names the file in errors.
    static func load(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits,
                     unknownGlobals: UnknownGlobals = .refuse) throws -> Contents {
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 {
            let (object, storages) = try PyTorchZipFormat.read(bytes, path: path, limits: limits, unknownGlobals: unknownGlobals)
            return Contents(format: .zip, root: try convert(object, storages, path: path, limits: limits))
        }
        if bytes.count > 0, bytes[0] == 0x80 {
            let (object, storages) = try PyTorchLegacyFormat.read(bytes, path: path, limits: limits, unknownGlobals: unknownGlobals)
            return Contents(format: .legacy, root: try convert(object, storages, path: path, limits: limits))
        }
        throw FormatError.badMagic(path: path, format: "PyTorch checkpoint (zip or legacy pickle)")
    }

    /// The tensors of `url` flattened to dotted names, in file order.
    ///
    /// With `prefix` (e.g. `"netG_state_dict"` or `"state_dict"`), only the
    /// tensors under that entry, with the prefix and its dot removed; a
    /// prefix that names no tensor is `FormatError.tensorNotFound`.
    public static func stateDict(_ url: URL, prefix: String? = nil,
                                 limits: FormatLimits = .fromEnvironment()) throws -> [(name: String, value: TensorValue)] {
        let all = try load(url, limits: limits).tensors
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
    ///
    /// Shared references (one memoised list used twice) are copied each
    /// time, so the objects unfolded and the tensor elements copied are
    /// counted against `limits` as the walk goes; the depth was bounded when
    /// the pickle was read, and is checked again because the walk recurses.
    static func convert(_ object: PickleObject, _ storages: (StorageReference) throws -> UnsafeRawBufferPointer,
                        path: String, limits: FormatLimits) throws -> Value {
        var objects = 0, elements = 0
        func walk(_ object: PickleObject, _ name: String, depth: Int) throws -> Value {
            objects += 1
            try limits.check(.pickleObjects, objects, path: path, what: "unfolded pickle")
            try limits.check(.pickleDepth, depth, path: path, what: "'\(name)'")
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
            case .tuple(let tuple):
                return .tuple(try tuple.items.enumerated().map { try child($0.element, String($0.offset)) })
            case .list(let list):
                return .list(try list.items.enumerated().map { try child($0.element, String($0.offset)) })
            case .dict(let dict):
                return .dict(try dict.entries.map { entry in
                    let key = try walk(entry.key, name, depth: depth + 1)
                    return Value.Entry(key: key, value: try child(entry.value, key.dottedKey ?? "?"))
                })
            case .tensor(let reference):
                let data = try storages(reference.storage)
                let count = try reference.elementCount(path: path, name: name, limits: limits)
                elements = CheckedSize.sum(elements, count) ?? Int.max
                try limits.check(.fileElements, elements, path: path, what: "tensors up to '\(name)'")
                return .tensor(try reference.materialise(data, path: path, name: name, limits: limits))
            case .global(.placeholder):
                return .none
            case .global(let global):
                throw FormatError.malformedPickle(path: path, reason: "'\(name)' is \(global.name) itself, not data")
            case .storage(let storage):
                throw FormatError.malformedPickle(path: path, reason: "'\(name)' is a bare storage ('\(storage.key)')")
            }
        }
        return try walk(object, "", depth: 0)
    }
}
