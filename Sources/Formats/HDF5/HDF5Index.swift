/// The datasets of an HDF5 file, found by walking its groups from the
/// superblock (HDF5 File Format Specification, versions 0 and 1 of the
/// superblock; "old-style" groups).
///
/// Superblock: signature `\x89HDF\r\n\x1a\n` at byte 0, version (0 or 1),
/// the sizes of addresses and lengths (bytes 13, 14), then — after the
/// B-tree K values (and for version 1 the indexed-storage K) — base address
/// (must be 0), free-space, end-of-file and driver addresses, and the root
/// group's symbol-table entry (link-name offset, object-header address, …).
///
/// A group's object header holds a symbol-table message (0x11: v1 B-tree
/// address, local-heap address). The B-tree (`TREE`, type 0) has `entries`
/// children between keys; at level 0 they are symbol-table nodes (`SNOD`:
/// version 1, count, entries of link-name offset, object-header address and
/// 24 bytes of cache), above it further B-tree nodes. Names are NUL-terminated
/// strings in the local heap's data segment (`HEAP`: version 0, segment
/// size, free-list offset, segment address). An object with a layout message
/// is a dataset (`HDF5Dataset`), one with a symbol table a group; other
/// objects (named datatypes) are skipped.
///
/// Hostile structure is refused: a node or group reached twice (a cycle),
/// nesting deeper than `maximumDepth`, and more elements in all than
/// `FormatLimits.fileElements`. New-style groups (link messages, written
/// with `libver="latest"`) are refused with a message that says so.
struct HDF5Index {
    /// Dataset paths (`"block1/layers/conv2d/vars/0"`, no leading slash) → dataset.
    private(set) var datasets: [String: HDF5Dataset] = [:]
    static let maximumDepth = 64

    private var file: HDF5Bytes
    private let limits: FormatLimits
    private var visitedNodes: Set<Int> = []
    private var visitedGroups: Set<Int> = []
    private var totalElements = 0

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits) throws -> HDF5Index {
        var index = HDF5Index(file: HDF5Bytes(bytes: bytes, path: path), limits: limits)
        try index.readSuperblock()
        return index
    }

    private init(file: HDF5Bytes, limits: FormatLimits) {
        self.file = file
        self.limits = limits
    }

    private mutating func readSuperblock() throws {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        guard file.bytes.count >= 8, file.bytes.prefix(8).elementsEqual(signature) else {
            throw FormatError.badMagic(path: file.path, format: "HDF5")
        }
        let what = "superblock"
        let version = try file.byte(8, what)
        guard version <= 1 else {
            throw file.unsupported("superblock version \(version) (written with libver=\"latest\"; "
                + "write the file with h5py's default libver=\"earliest\")")
        }
        file.offsetSize = try file.byte(13, what)
        file.lengthSize = try file.byte(14, what)
        guard [4, 8].contains(file.offsetSize), [4, 8].contains(file.lengthSize) else {
            throw file.malformed("\(what) gives \(file.offsetSize)-byte addresses and \(file.lengthSize)-byte lengths (4 or 8 expected)")
        }
        let addresses = version == 0 ? 24 : 28
        guard try file.address(addresses, "base address") ?? 0 == 0 else {
            throw file.unsupported("a non-zero base address (a user block)")
        }
        let rootEntry = addresses + 4 * file.offsetSize
        let root = try file.definedAddress(rootEntry + file.offsetSize, "root group's object header address")
        try walkGroup(at: root, prefix: "", depth: 0)
    }

    private mutating func walkGroup(at address: Int, prefix: String, depth: Int) throws {
        guard depth < HDF5Index.maximumDepth else {
            throw file.malformed("groups nest deeper than \(HDF5Index.maximumDepth) at '\(prefix)'")
        }
        guard visitedGroups.insert(address).inserted else {
            throw file.malformed("group '\(prefix)' is reached twice (the group tree has a cycle)")
        }
        let header = try HDF5ObjectHeader(at: address, in: file)
        guard let table = try header.first(HDF5ObjectHeader.MessageType.symbolTable, in: file) else {
            if header.has(HDF5ObjectHeader.MessageType.link) || header.has(HDF5ObjectHeader.MessageType.linkInfo) {
                throw file.unsupported("new-style groups with link messages (group '\(prefix)')")
            }
            throw file.malformed("group '\(prefix)' has no symbol-table message")
        }
        let what = "symbol table of group '\(prefix)'"
        let tree = try file.definedAddress(table.body.lowerBound, what)
        let heap = try file.definedAddress(table.body.lowerBound + file.offsetSize, what)
        try file.expectSignature("HEAP", at: heap, "local heap of group '\(prefix)'")
        let segmentSize = try file.length(heap + 8, "local heap of group '\(prefix)'")
        let segmentAddress = try file.definedAddress(heap + 8 + 2 * file.lengthSize, "local heap of group '\(prefix)'")
        let segment = try file.range(segmentAddress, segmentSize, "local heap data of group '\(prefix)'")
        var entries: [(name: String, header: Int)] = []
        try collectEntries(node: tree, segment: segment, prefix: prefix, depth: 0, into: &entries)
        for entry in entries {
            let path = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
            let child = try HDF5ObjectHeader(at: entry.header, in: file)
            if child.has(HDF5ObjectHeader.MessageType.symbolTable) {
                try walkGroup(at: entry.header, prefix: path, depth: depth + 1)
            } else if child.has(HDF5ObjectHeader.MessageType.layout) {
                let dataset = try HDF5Dataset(child, name: path, in: file, limits: limits)
                guard let total = CheckedSize.sum(totalElements, dataset.elementCount) else {
                    throw file.malformed("the datasets' sizes overflow")
                }
                totalElements = total
                try limits.check(.fileElements, totalElements, path: file.path, what: "datasets up to '\(path)'")
                datasets[path] = dataset
            }
        }
    }

    /// The (name, object header) entries under B-tree `node`, in key order.
    private mutating func collectEntries(node: Int, segment: Range<Int>, prefix: String, depth: Int,
                                         into entries: inout [(name: String, header: Int)]) throws {
        let what = "B-tree node at byte \(node) of group '\(prefix)'"
        guard depth < HDF5Index.maximumDepth, visitedNodes.insert(node).inserted else {
            throw file.malformed("\(what) is reached twice or nests too deep (a cycle)")
        }
        try file.expectSignature("TREE", at: node, what)
        guard try file.byte(node + 4, what) == 0 else { throw file.malformed("\(what) is not a group node (type 0)") }
        let level = try file.byte(node + 5, what)
        let used = try file.integer(node + 6, size: 2, what)
        // Keys (heap offsets, lengthSize) and children (addresses) alternate after the siblings.
        let first = node + 8 + 2 * file.offsetSize + file.lengthSize
        let stride = file.offsetSize + file.lengthSize
        for child in 0..<used {
            let address = try file.definedAddress(first + child * stride, "child \(child) of \(what)")
            if level > 0 {
                try collectEntries(node: address, segment: segment, prefix: prefix, depth: depth + 1, into: &entries)
            } else {
                try readSymbolNode(at: address, segment: segment, prefix: prefix, into: &entries)
            }
        }
    }

    private mutating func readSymbolNode(at node: Int, segment: Range<Int>, prefix: String,
                                         into entries: inout [(name: String, header: Int)]) throws {
        let what = "symbol-table node at byte \(node) of group '\(prefix)'"
        guard visitedNodes.insert(node).inserted else { throw file.malformed("\(what) is reached twice") }
        try file.expectSignature("SNOD", at: node, what)
        let count = try file.integer(node + 6, size: 2, what)
        let entrySize = 2 * file.offsetSize + 24
        for index in 0..<count {
            let entry = node + 8 + index * entrySize
            let nameOffset = try file.integer(entry, size: file.offsetSize, "entry \(index) of \(what)")
            guard nameOffset < segment.count else {
                throw file.malformed("entry \(index) of \(what) names heap offset \(nameOffset), outside the heap")
            }
            let name = try file.string(segment.lowerBound + nameOffset, end: segment.upperBound, "name of entry \(index) of \(what)")
            guard !name.isEmpty, !name.contains("/") else {
                throw file.malformed("entry \(index) of \(what) has the invalid name '\(name)'")
            }
            entries.append((name, try file.definedAddress(entry + file.offsetSize, "entry \(index) of \(what)")))
        }
    }
}
