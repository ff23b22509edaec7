import Foundation

/// A pickle interpreter for the subset of protocols 2–5 that `torch.save`
/// writes, and nothing more. It never imports or calls anything: `GLOBAL`
/// names are looked up in `AllowedGlobal` (anything else is an error naming
/// the global), and `REDUCE`/`NEWOBJ`/`BUILD` only build dicts, storage
/// references and tensor views. Every read is bounds-checked, and the stack,
/// the memo and the nesting depth are bounded by `FormatLimits`.
struct PickleMachine {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private let limits: FormatLimits
    private let unknownGlobals: PyTorchCheckpoint.UnknownGlobals
    var position: Int
    private var stack: [PickleObject] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleObject] = [:]
    /// Storage key → dtype of every persistent id seen (legacy files need it
    /// to know the element size of the storages that follow the pickle).
    private(set) var storageTypes: [String: PyTorchDType] = [:]

    init(_ bytes: UnsafeRawBufferPointer, start: Int = 0, path: String, limits: FormatLimits,
         unknownGlobals: PyTorchCheckpoint.UnknownGlobals = .refuse) {
        self.bytes = bytes
        self.path = path
        self.limits = limits
        self.unknownGlobals = unknownGlobals
        self.position = start
    }

    /// Runs to `STOP`; returns the object and the offset just past `STOP`.
    mutating func run() throws -> (object: PickleObject, end: Int) {
        while true {
            let offset = position
            let opcode = try readByte()
            if opcode == 0x2E { // STOP
                guard stack.count == 1, marks.isEmpty else {
                    throw malformed("STOP at offset \(offset) with \(stack.count) objects on the stack")
                }
                return (stack[0], position)
            }
            try execute(opcode, at: offset)
            try checkLimits(at: offset)
        }
    }

    private mutating func execute(_ opcode: UInt8, at offset: Int) throws {
        switch opcode {
        case 0x80: _ = try readByte()                                   // PROTO
        case 0x95: _ = try read(8)                                      // FRAME (a size hint)
        case 0x7D: stack.append(.dict(PickleDict()))                    // EMPTY_DICT }
        case 0x5D: stack.append(.list(PickleList()))                    // EMPTY_LIST ]
        case 0x29: stack.append(.tuple(PickleTuple([])))                // EMPTY_TUPLE )
        case 0x28: marks.append(stack.count)                            // MARK (
        case 0x74: try push(.tuple(PickleTuple(try popToMark())))       // TUPLE t
        case 0x85, 0x86, 0x87:                                          // TUPLE1-3
            try push(.tuple(PickleTuple(try pop(Int(opcode - 0x84)))))
        case 0x6C: try push(.list(PickleList(try popToMark())))         // LIST l
        case 0x61:                                                      // APPEND a
            let item = try pop()
            try append([item], to: try top(), opcode: "APPEND", at: offset)
        case 0x65:                                                      // APPENDS e
            let items = try popToMark()
            try append(items, to: try top(), opcode: "APPENDS", at: offset)
        case 0x64:                                                      // DICT d
            let dict = PickleDict()
            try setItems(dict, try popToMark(), at: offset)
            try push(.dict(dict))
        case 0x73:                                                      // SETITEM s
            let pair = try pop(2)
            try setItems(try dict(top(), opcode: "SETITEM"), pair, at: offset)
        case 0x75:                                                      // SETITEMS u
            let items = try popToMark()
            try setItems(try dict(top(), opcode: "SETITEMS"), items, at: offset)
        case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try readUInt(4)))))   // BININT J
        case 0x4B: stack.append(.int(Int64(try readUInt(1))))           // BININT1 K
        case 0x4D: stack.append(.int(Int64(try readUInt(2))))           // BININT2 M
        case 0x8A: stack.append(.int(try readLong(count: Int(try readUInt(1)))))  // LONG1
        case 0x47:                                                      // BINFLOAT G (big-endian)
            let raw = try read(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            stack.append(.float(Double(bitPattern: raw)))
        case 0x58: stack.append(.string(try readString(count: try readLength(4))))  // BINUNICODE X
        case 0x8C: stack.append(.string(try readString(count: try readLength(1))))  // SHORT_BINUNICODE
        case 0x8D: stack.append(.string(try readString(count: try readLength(8))))  // BINUNICODE8
        case 0x55: stack.append(.string(try readString(count: try readLength(1))))  // SHORT_BINSTRING U
        case 0x54: stack.append(.string(try readString(count: try readLength(4))))  // BINSTRING T
        case 0x43: stack.append(.bytes(try read(try readLength(1))))    // SHORT_BINBYTES C
        case 0x42: stack.append(.bytes(try read(try readLength(4))))    // BINBYTES B
        case 0x8E: stack.append(.bytes(try read(try readLength(8))))    // BINBYTES8
        case 0x4E: stack.append(.none)                                  // NONE N
        case 0x88: stack.append(.bool(true))                            // NEWTRUE
        case 0x89: stack.append(.bool(false))                           // NEWFALSE
        case 0x30: _ = try pop()                                        // POP 0
        case 0x31: _ = try popToMark()                                  // POP_MARK 1
        case 0x71: memo[Int(try readUInt(1))] = try top()               // BINPUT q
        case 0x72: memo[Int(try readUInt(4))] = try top()               // LONG_BINPUT r
        case 0x94: memo[memo.count] = try top()                         // MEMOIZE
        case 0x68: stack.append(try recall(Int(try readUInt(1))))       // BINGET h
        case 0x6A: stack.append(try recall(Int(try readUInt(4))))       // LONG_BINGET j
        case 0x63:                                                      // GLOBAL c
            let module = try readLine(), name = try readLine()
            stack.append(.global(try allowedGlobal(module, name)))
        case 0x93:                                                      // STACK_GLOBAL
            let pair = try pop(2)
            guard case .string(let module) = pair[0], case .string(let name) = pair[1] else {
                throw malformed("STACK_GLOBAL at offset \(offset) needs two strings")
            }
            stack.append(.global(try allowedGlobal(module, name)))
        case 0x52:                                                      // REDUCE R
            let arguments = try pop(), callable = try pop()
            stack.append(try reduce(callable, arguments, at: offset))
        case 0x81:                                                      // NEWOBJ
            let arguments = try pop(), cls = try pop()
            if case .global(.placeholder) = cls {
                stack.append(cls)
                return
            }
            guard case .global(.orderedDict) = cls else {
                throw malformed("NEWOBJ at offset \(offset) on \(cls.kind); only OrderedDict is built")
            }
            stack.append(try reduce(cls, arguments, at: offset))
        case 0x62:                                                      // BUILD b
            // The state of an OrderedDict (`_metadata`) or tensor (hooks) is
            // Python attributes; the data we read is complete without it.
            _ = try pop()
            switch try top() {
            case .dict, .tensor, .global(.placeholder): break
            case let other: throw malformed("BUILD at offset \(offset) on \(other.kind)")
            }
        case 0x51:                                                      // BINPERSID Q
            stack.append(try persistentLoad(try pop(), at: offset))
        default:
            throw malformed(String(format: "unsupported opcode 0x%02x at offset %d", opcode, offset))
        }
    }

    // MARK: Objects

    private func allowedGlobal(_ module: String, _ name: String) throws -> AllowedGlobal {
        if let global = AllowedGlobal(module: module, name: name) { return global }
        guard unknownGlobals == .placeholder else {
            throw FormatError.disallowedGlobal(path: path, name: "\(module).\(name)")
        }
        return .placeholder("\(module).\(name)")
    }

    private func reduce(_ callable: PickleObject, _ arguments: PickleObject, at offset: Int) throws -> PickleObject {
        guard case .tuple(let argumentTuple) = arguments else {
            throw malformed("REDUCE at offset \(offset): arguments are \(arguments.kind), not a tuple")
        }
        guard case .global(let global) = callable else {
            throw malformed("REDUCE at offset \(offset) on \(callable.kind)")
        }
        let args = argumentTuple.items
        switch global {
        case .placeholder:
            return callable
        case .orderedDict:
            let dict = PickleDict()
            if let pairs = args.first {
                let items: [PickleObject]
                switch pairs {
                case .list(let list): items = list.items
                case .tuple(let tuple): items = tuple.items
                default: throw malformed("OrderedDict(\(pairs.kind)) at offset \(offset)")
                }
                for item in items {
                    guard case .tuple(let pair) = item, pair.items.count == 2 else {
                        throw malformed("OrderedDict item is \(item.kind), not a (key, value) pair")
                    }
                    try setItems(dict, pair.items, at: offset)
                }
            }
            return .dict(dict)
        case .rebuildTensor:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count == 6 || args.count == 7, case .storage(let storage) = args[0],
                  case .int(let storageOffset) = args[1] else {
                throw malformed("_rebuild_tensor_v2 at offset \(offset) with unexpected arguments")
            }
            return .tensor(TensorReference(storage: storage, offset: Int(storageOffset),
                                           shape: try integers(args[2], "size"),
                                           strides: try integers(args[3], "stride")))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): a Parameter is its tensor.
            guard args.count == 3, case .tensor = args[0] else {
                throw malformed("_rebuild_parameter at offset \(offset) without a tensor")
            }
            return args[0]
        case .storageClass:
            throw malformed("REDUCE at offset \(offset) calls \(global.name); storages come from persistent ids")
        }
    }

    private mutating func persistentLoad(_ id: PickleObject, at offset: Int) throws -> PickleObject {
        guard case .tuple(let idTuple) = id, idTuple.items.count == 5 || idTuple.items.count == 6,
              case .string("storage") = idTuple.items[0] else {
            throw malformed("persistent id at offset \(offset) is not ('storage', type, key, location, numel)")
        }
        let fields = idTuple.items
        guard case .global(.storageClass(let dtype)) = fields[1] else {
            throw malformed("persistent id at offset \(offset) names \(fields[1].kind), not a storage class")
        }
        let key: String
        switch fields[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw malformed("storage key at offset \(offset) is \(fields[2].kind)")
        }
        guard case .int(let count) = fields[4], count >= 0 else {
            throw malformed("storage '\(key)' has an invalid element count")
        }
        if let previous = storageTypes[key], previous != dtype {
            throw malformed("storage '\(key)' used as both \(previous.rawValue) and \(dtype.rawValue)")
        }
        storageTypes[key] = dtype
        var reference = StorageReference(dtype: dtype, key: key, elementCount: Int(count))
        if fields.count == 6, case .tuple(let viewTuple) = fields[5] {
            let view = viewTuple.items
            guard view.count == 3, case .int(let viewOffset) = view[1], case .int(let viewCount) = view[2],
                  let viewEnd = CheckedSize.sum(Int(viewOffset), Int(viewCount)), viewEnd <= count else {
                throw malformed("storage '\(key)' has an invalid view")
            }
            reference.view = (Int(viewOffset), Int(viewCount))
        }
        return .storage(reference)
    }

    private func integers(_ object: PickleObject, _ what: String) throws -> [Int] {
        guard case .tuple(let tuple) = object else { throw malformed("tensor \(what) is \(object.kind)") }
        return try tuple.items.map {
            guard case .int(let value) = $0 else { throw malformed("tensor \(what) holds \($0.kind)") }
            return Int(value)
        }
    }

    private func setItems(_ dict: PickleDict, _ items: [PickleObject], at offset: Int) throws {
        guard items.count % 2 == 0 else { throw malformed("odd number of items for a dict") }
        for i in stride(from: 0, to: items.count, by: 2) {
            guard dict.set(items[i], items[i + 1]) else { throw frozen("dict", at: offset) }
        }
        try checkDepth(.dict(dict), at: offset)
    }

    private func append(_ items: [PickleObject], to object: PickleObject, opcode: String, at offset: Int) throws {
        guard case .list(let list) = object else { throw malformed("\(opcode) on \(object.kind)") }
        guard list.append(contentsOf: items) else { throw frozen("list", at: offset) }
        try checkDepth(object, at: offset)
    }

    /// A change to a container that is already inside another one (or that
    /// would put it inside itself): `torch.save` never writes one, and
    /// allowing it would allow cycles.
    private func frozen(_ kind: String, at offset: Int) -> FormatError {
        malformed("opcode at offset \(offset) changes a \(kind) that is already nested or puts it inside itself")
    }

    private func dict(_ object: PickleObject, opcode: String) throws -> PickleDict {
        guard case .dict(let dict) = object else { throw malformed("\(opcode) on \(object.kind)") }
        return dict
    }

    // MARK: Stack, memo and limits

    /// Pushes a newly built container after checking its depth.
    private mutating func push(_ object: PickleObject) throws {
        try checkDepth(object, at: position - 1)
        stack.append(object)
    }

    private func checkDepth(_ object: PickleObject, at offset: Int) throws {
        try limits.check(.pickleDepth, object.depth, path: path, what: "nested containers at pickle offset \(offset)")
    }

    private func checkLimits(at offset: Int) throws {
        try limits.check(.pickleStack, max(stack.count, marks.count), path: path, what: "pickle at offset \(offset)")
        try limits.check(.pickleMemo, memo.count, path: path, what: "pickle at offset \(offset)")
    }

    private func top() throws -> PickleObject {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else {
            throw malformed("stack underflow at offset \(position - 1)")
        }
        return last
    }

    private mutating func pop() throws -> PickleObject {
        _ = try top()
        return stack.removeLast()
    }

    private mutating func pop(_ count: Int) throws -> [PickleObject] {
        guard stack.count - count >= (marks.last ?? 0) else {
            throw malformed("stack underflow at offset \(position - 1)")
        }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    private mutating func popToMark() throws -> [PickleObject] {
        guard let mark = marks.popLast() else { throw malformed("no MARK before offset \(position - 1)") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private func recall(_ index: Int) throws -> PickleObject {
        guard let object = memo[index] else { throw malformed("memo entry \(index) was never stored") }
        return object
    }
}
