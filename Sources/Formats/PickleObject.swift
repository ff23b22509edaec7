/// The objects `PickleMachine` builds: plain Python data, plus the few
/// PyTorch objects a checkpoint holds. Lists and dicts are boxes (reference
/// types) because pickle mutates them after memoising them; a `BINGET` must
/// see later `APPEND`s and `SETITEM`s.
indirect enum PickleObject {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleObject])
    case list(PickleList)
    case dict(PickleDict)
    /// A callable or class from the allow-list; nothing else can be named.
    case global(AllowedGlobal)
    /// What a persistent id `('storage', …)` refers to.
    case storage(StorageReference)
    /// A strided view of a storage, from `_rebuild_tensor_v2`.
    case tensor(TensorReference)

    /// A short description for messages (`"str"`, `"tuple of 3"`…).
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple(let items): return "tuple of \(items.count)"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let global): return "global \(global.name)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

final class PickleList {
    var items: [PickleObject] = []
}

/// A dict in insertion order; assigning an existing str or int key replaces
/// its value in place, as Python does.
final class PickleDict {
    private(set) var entries: [(key: PickleObject, value: PickleObject)] = []
    private var positions: [DictKey: Int] = [:]

    private enum DictKey: Hashable {
        case string(String), int(Int64)
    }

    func set(_ key: PickleObject, _ value: PickleObject) {
        let hashable: DictKey?
        switch key {
        case .string(let s): hashable = .string(s)
        case .int(let i): hashable = .int(i)
        default: hashable = nil
        }
        if let hashable, let position = positions[hashable] {
            entries[position].value = value
            return
        }
        if let hashable { positions[hashable] = entries.count }
        entries.append((key, value))
    }
}

/// The only Python globals a checkpoint may name. Anything else
/// (`os.system`, `builtins.eval`…) is refused when the `GLOBAL` opcode is
/// read, before it can be called.
enum AllowedGlobal {
    case orderedDict
    case rebuildTensor
    case rebuildParameter
    case storageClass(PyTorchDType)

    /// Looks up `module.name`; nil when not allowed.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", _):
            guard let dtype = PyTorchDType(storageClass: name) else { return nil }
            self = .storageClass(dtype)
        default: return nil
        }
    }

    var name: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensor: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .storageClass(let dtype): return "torch storage of \(dtype.rawValue)"
        }
    }
}

/// A storage named by a persistent id
/// `('storage', storage_class, key, location, numel[, view_metadata])`.
///
/// Old legacy files may describe a storage as a slice of another:
/// `key` and `elementCount` then name the stored (root) storage, and
/// `view_metadata = (view_key, offset, size)` the slice, in elements.
struct StorageReference {
    var dtype: PyTorchDType
    var key: String
    var elementCount: Int
    var view: (offset: Int, count: Int)?
}

extension StorageReference {
    /// This storage's bytes within `data`, the stored bytes of its root:
    /// `elementCount` elements (or the view's slice). Throws `truncated` when
    /// `data` is shorter.
    func slice(of data: UnsafeRawBufferPointer, path: String) throws -> UnsafeRawBufferPointer {
        let needed = elementCount * dtype.byteSize
        guard data.count >= needed else {
            throw FormatError.truncated(path: path, reason: "storage '\(key)' should hold \(elementCount) "
                                        + "\(dtype.rawValue) elements (\(needed) bytes) but has \(data.count) bytes")
        }
        guard let view else { return UnsafeRawBufferPointer(rebasing: data[0..<needed]) }
        let start = view.offset * dtype.byteSize
        return UnsafeRawBufferPointer(rebasing: data[start..<start + view.count * dtype.byteSize])
    }
}
