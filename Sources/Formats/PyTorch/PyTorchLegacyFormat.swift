import Foundation

/// The legacy container of `torch.save(…, _use_new_zipfile_serialization=False)`:
/// five records back to back,
/// 1. the pickled magic number 0x1950a86a20f9469cfc6c,
/// 2. the pickled protocol version (1001),
/// 3. pickled system info (`{'little_endian': True, …}`),
/// 4. the pickled object, whose tensors name storages by persistent id,
/// 5. a pickled list of storage keys, then for each key in that order an
///    8-byte little-endian element count and the raw little-endian elements.
enum PyTorchLegacyFormat {
    /// The first record exactly as `torch.save` writes it: PROTO 2, LONG1
    /// of 10 bytes (the magic, little-endian), STOP.
    static let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    /// Interprets the pickles; the returned lookup gives a storage's bytes.
    static func read(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits,
                     unknownGlobals: PyTorchCheckpoint.UnknownGlobals = .refuse) throws -> (PickleObject, PyTorchZipFormat.StorageLookup) {
        guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw FormatError.badMagic(path: path, format: "PyTorch checkpoint (legacy pickle magic number)")
        }
        var position = magic.count
        func next() throws -> (PickleObject, PickleMachine) {
            var machine = PickleMachine(bytes, start: position, path: path, limits: limits, unknownGlobals: unknownGlobals)
            let (object, end) = try machine.run()
            position = end
            return (object, machine)
        }
        guard case .int(1001) = try next().0 else {
            throw FormatError.malformedHeader(path: path, reason: "legacy protocol version is not 1001")
        }
        guard case .dict(let info) = try next().0 else {
            throw FormatError.malformedHeader(path: path, reason: "legacy system info is not a dict")
        }
        for entry in info.entries {
            if case .string("little_endian") = entry.key, case .bool(false) = entry.value {
                throw FormatError.unsupportedDType(path: path, dtype: "big-endian storages", supported: "little")
            }
        }
        let (object, machine) = try next()
        guard case .list(let keyList) = try next().0 else {
            throw FormatError.malformedHeader(path: path, reason: "legacy storage key list is not a list")
        }
        var storages: [String: UnsafeRawBufferPointer] = [:]
        var reader = ByteReader(bytes, path: path)
        reader.position = position
        for item in keyList.items {
            guard case .string(let key) = item else {
                throw FormatError.malformedHeader(path: path, reason: "legacy storage key is \(item.kind)")
            }
            guard let dtype = machine.storageTypes[key] else {
                throw FormatError.malformedHeader(path: path, reason: "storage '\(key)' is listed but no tensor uses it")
            }
            guard bytes.count - reader.position >= 8 else {
                throw FormatError.truncated(path: path, reason: "the file ends at \(bytes.count) before "
                                            + "storage '\(key)' (\(dtype.rawValue))")
            }
            let count = try reader.uint(8)
            let available = (bytes.count - reader.position) / dtype.byteSize
            guard count <= UInt64(available) else {
                throw FormatError.truncated(path: path, reason: "storage '\(key)' should hold \(count) "
                                            + "\(dtype.rawValue) elements but only \(available) remain in the file")
            }
            let start = reader.position
            guard let byteCount = CheckedSize.product(Int(count), dtype.byteSize) else {
                throw FormatError.truncated(path: path, reason: "storage '\(key)' claims \(count) elements")
            }
            storages[key] = UnsafeRawBufferPointer(rebasing: bytes[start..<start + byteCount])
            reader.position += byteCount
        }
        let lookup: PyTorchZipFormat.StorageLookup = { storage in
            guard let data = storages[storage.key] else {
                throw FormatError.malformedHeader(path: path, reason: "storage '\(storage.key)' is not in the key list")
            }
            return try storage.slice(of: data, path: path)
        }
        return (object, lookup)
    }
}
