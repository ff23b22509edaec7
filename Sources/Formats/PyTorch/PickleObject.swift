/// The objects `PickleMachine` builds: plain Python data, plus the few
/// PyTorch objects a checkpoint holds. Tuples, lists and dicts are boxes
/// (`PickleContainer`): pickle mutates lists and dicts after memoising them
/// (a `BINGET` must see later `APPEND`s and `SETITEM`s), and boxes let a
/// deep tree be freed without recursion (see `PickleContainer`).
enum PickleObject {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
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
        case .tuple(let tuple): return "tuple of \(tuple.items.count)"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let global): return "global \(global.name)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// The box of a tuple, list or dict; nil for other objects.
    var container: PickleContainer? {
        switch self {
        case .tuple(let box): return box
        case .list(let box): return box
        case .dict(let box): return box
        default: return nil
        }
    }

    /// Nesting depth: 0 for a leaf, 1 + the deepest child for a container.
    var depth: Int { container?.depth ?? 0 }
}

/// What tuples, lists and dicts share: their nesting depth, and the rules
/// that keep a pickled tree a tree (finite depth, no cycles) and free it
/// without recursion.
///
/// - A container may be changed only until it is put inside another one
///   (`isNested`), and never made to contain itself. `torch.save` fills every
///   list and dict before nesting it, so real files never break the rule;
///   with it, no cycle can form (the last edge of a cycle would have to
///   change a container that is already nested) and `depth` stays exact.
/// - Freeing a 50 000-deep tree the default way recurses once per level and
///   overflows the stack. Each box's `deinit` instead hands its children to
///   `releaseIteratively`, which empties every box it holds the last reference
///   to into one work list, so no `deinit` ever runs on a non-empty box below it.
class PickleContainer {
    /// 1 + the depth of the deepest child (1 when empty).
    fileprivate(set) var depth = 1
    /// Set once the container is inside another; it is then frozen.
    fileprivate(set) var isNested = false

    /// Records `child` as a child: freezes it and updates `depth`.
    fileprivate func adopt(_ child: PickleObject) {
        guard let box = child.container else { return }
        box.isNested = true
        depth = max(depth, box.depth + 1)
    }

    /// Removes and returns the children (used only while freeing).
    fileprivate func takeChildren() -> [PickleObject] { [] }

    /// Frees the objects in `pending` with it as a work list instead of
    /// recursion. (`inout`, not a copy: a second reference to the array would
    /// keep every child alive until the array itself is freed — recursively.)
    fileprivate static func releaseIteratively(_ pending: inout [PickleObject]) {
        while !pending.isEmpty {
            // The popped enum dies with this statement, so `box` holds the
            // only reference unless the memo or another parent shares it.
            guard var box = pending.removeLast().container else { continue }
            if isKnownUniquelyReferenced(&box) { pending.append(contentsOf: box.takeChildren()) }
        }
    }
}

/// The items of a tuple or list, in order.
class PickleSequence: PickleContainer {
    fileprivate(set) var items: [PickleObject]

    init(_ items: [PickleObject]) {
        self.items = items
        super.init()
        for item in items { adopt(item) }
    }

    override fileprivate func takeChildren() -> [PickleObject] {
        defer { items = [] }
        return items
    }

    deinit {
        var children = takeChildren()
        Self.releaseIteratively(&children)
    }
}

final class PickleTuple: PickleSequence {}

final class PickleList: PickleSequence {
    override init(_ items: [PickleObject] = []) {
        super.init(items)
    }

    /// Appends `newItems`; false (nothing changed) when the list is already
    /// nested or would contain itself.
    func append(contentsOf newItems: [PickleObject]) -> Bool {
        guard !isNested, !newItems.contains(where: { $0.container === self }) else { return false }
        for item in newItems { adopt(item) }
        items.append(contentsOf: newItems)
        return true
    }
}

/// A dict in insertion order; assigning an existing str or int key replaces
/// its value in place, as Python does.
final class PickleDict: PickleContainer {
    private(set) var entries: [(key: PickleObject, value: PickleObject)] = []
    private var positions: [DictKey: Int] = [:]

    private enum DictKey: Hashable {
        case string(String), int(Int64)
    }

    /// Sets `key` to `value`; false (nothing changed) when the dict is
    /// already nested or would contain itself.
    func set(_ key: PickleObject, _ value: PickleObject) -> Bool {
        guard !isNested, key.container !== self, value.container !== self else { return false }
        adopt(key)
        adopt(value)
        let hashable: DictKey?
        switch key {
        case .string(let s): hashable = .string(s)
        case .int(let i): hashable = .int(i)
        default: hashable = nil
        }
        if let hashable, let position = positions[hashable] {
            entries[position].value = value
            return true
        }
        if let hashable { positions[hashable] = entries.count }
        entries.append((key, value))
        return true
    }

    override fileprivate func takeChildren() -> [PickleObject] {
        defer { entries = []; positions = [:] }
        return entries.flatMap { [$0.key, $0.value] }
    }

    deinit {
        var children = takeChildren()
        Self.releaseIteratively(&children)
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
    /// Any other class or callable, when the reader keeps such objects as
    /// inert placeholders (`PyTorchCheckpoint.UnknownGlobals.placeholder`);
    /// an object built from it (REDUCE, NEWOBJ, BUILD) is the same
    /// placeholder: nothing is called and its arguments are dropped.
    case placeholder(String)

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
        case .placeholder(let name): return name
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
    /// `elementCount` elements (or the view's slice). The byte counts are
    /// computed with overflow checks, and the slice is proven inside `data`
    /// before it is made; throws `truncated` when `data` is shorter.
    func slice(of data: UnsafeRawBufferPointer, path: String) throws -> UnsafeRawBufferPointer {
        guard let needed = CheckedSize.product(elementCount, dtype.byteSize) else {
            throw FormatError.malformedPickle(path: path, reason: "storage '\(key)' claims \(elementCount) "
                                              + "\(dtype.rawValue) elements, more bytes than fit in memory")
        }
        guard data.count >= needed else {
            throw FormatError.truncated(path: path, reason: "storage '\(key)' should hold \(elementCount) "
                                        + "\(dtype.rawValue) elements (\(needed) bytes) but has \(data.count) bytes")
        }
        guard let view else { return UnsafeRawBufferPointer(rebasing: data[0..<needed]) }
        guard let start = CheckedSize.product(view.offset, dtype.byteSize),
              let length = CheckedSize.product(view.count, dtype.byteSize),
              let end = CheckedSize.sum(start, length), end <= needed else {
            throw FormatError.malformedPickle(path: path, reason: "storage '\(key)' has a view (offset \(view.offset), "
                                              + "size \(view.count)) outside its \(elementCount) elements")
        }
        return UnsafeRawBufferPointer(rebasing: data[start..<end])
    }
}
