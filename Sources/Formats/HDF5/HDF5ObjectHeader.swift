/// The messages of one version-1 HDF5 object header (HDF5 File Format
/// Specification, §IV.A.1.a): a 16-byte prefix — version 1, reserved,
/// message count (2 bytes), reference count (4), header size (4), padding —
/// then messages of `type (2), size (2), flags (1), reserved (3), body
/// (size bytes)`, continued in further blocks named by continuation
/// messages (type 0x10: address, length).
///
/// Each body is proved to lie inside its block and the file; a block visited
/// twice (a continuation cycle) or more blocks than messages is an error.
/// Version-2 headers (`OHDR`, written with `libver="latest"`) are refused.
struct HDF5ObjectHeader {
    struct Message {
        let type: Int
        let flags: Int
        /// The body's bytes in the file.
        let body: Range<Int>
        /// Bit 1: the body is a reference to a shared message elsewhere.
        var isShared: Bool { flags & 0x02 != 0 }
    }

    enum MessageType {
        static let nil_ = 0x00, dataspace = 0x01, linkInfo = 0x02, datatype = 0x03
        static let link = 0x06, externalFiles = 0x07, layout = 0x08, filterPipeline = 0x0B
        static let continuation = 0x10, symbolTable = 0x11
    }

    let address: Int
    let messages: [Message]

    init(at address: Int, in file: HDF5Bytes) throws {
        self.address = address
        let what = "object header at byte \(address)"
        if let signature = try? file.range(address, 4, what),
           file.bytes[signature].elementsEqual("OHDR".utf8) {
            throw file.unsupported("a version-2 object header (\(what))")
        }
        let version = try file.byte(address, what)
        guard version == 1 else { throw file.malformed("\(what) has version \(version), expected 1") }
        let declared = try file.integer(address + 2, size: 2, what)
        let size = try file.integer(address + 8, size: 4, what)
        var blocks = [try file.range(address + 16, size, what)]
        var visited: Set<Int> = [address + 16]
        var messages: [Message] = []
        var next = 0
        while next < blocks.count && messages.count < declared {
            let block = blocks[next]
            next += 1
            var offset = block.lowerBound
            while offset + 8 <= block.upperBound && messages.count < declared {
                let type = try file.integer(offset, size: 2, "message type in \(what)")
                let length = try file.integer(offset + 2, size: 2, "message size in \(what)")
                let flags = try file.byte(offset + 4, "message flags in \(what)")
                let body = try file.range(offset + 8, length, "message 0x\(String(type, radix: 16)) in \(what)")
                guard body.upperBound <= block.upperBound else {
                    throw file.malformed("message 0x\(String(type, radix: 16)) in \(what) runs past its block")
                }
                let message = Message(type: type, flags: flags, body: body)
                messages.append(message)
                if type == MessageType.continuation {
                    guard !message.isShared else { throw file.unsupported("a shared continuation message (\(what))") }
                    let start = try file.definedAddress(body.lowerBound, "continuation in \(what)")
                    let count = try file.length(body.lowerBound + file.offsetSize, "continuation in \(what)")
                    guard visited.insert(start).inserted else {
                        throw file.malformed("\(what) continues into a block it already read")
                    }
                    guard blocks.count <= declared else {
                        throw file.malformed("\(what) has more continuation blocks than its \(declared) messages")
                    }
                    blocks.append(try file.range(start, count, "continuation block of \(what)"))
                }
                offset = body.upperBound
            }
        }
        self.messages = messages
    }

    /// The first message of `type`, refusing shared ones (this reader does not follow them).
    func first(_ type: Int, in file: HDF5Bytes) throws -> Message? {
        guard let message = messages.first(where: { $0.type == type }) else { return nil }
        guard !message.isShared else {
            throw file.unsupported("a shared message of type 0x\(String(type, radix: 16)) (object header at byte \(address))")
        }
        return message
    }

    func has(_ type: Int) -> Bool { messages.contains { $0.type == type } }
}
