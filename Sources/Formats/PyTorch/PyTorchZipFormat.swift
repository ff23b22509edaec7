import Foundation

/// The zip container of `torch.save` (torch ≥ 1.6): stored entries
/// `<archive>/data.pkl` (the pickle), `<archive>/data/<key>` (one per
/// storage, raw little-endian elements), `<archive>/byteorder` (optional,
/// `little`), `<archive>/version` and others, which are ignored.
enum PyTorchZipFormat {
    typealias StorageLookup = (StorageReference) throws -> UnsafeRawBufferPointer

    /// Interprets the pickle; the returned lookup gives a storage's bytes.
    static func read(_ bytes: UnsafeRawBufferPointer, path: String, limits: FormatLimits,
                     unknownGlobals: PyTorchCheckpoint.UnknownGlobals = .refuse) throws -> (PickleObject, StorageLookup) {
        let archive = try ZipArchive(bytes, path: path, limits: limits)
        let pickles = archive.entries.filter { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl"
        }
        guard pickles.count == 1, let pickle = pickles.first else {
            throw FormatError.malformedArchive(
                path: path, reason: pickles.isEmpty ? "no '<archive>/data.pkl' entry: not a PyTorch checkpoint"
                    : "\(pickles.count) '*/data.pkl' entries")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        var byName: [String: ZipArchive.Entry] = [:]
        for entry in archive.entries { byName[entry.name] = entry }
        if let order = byName[prefix + "byteorder"] {
            let text = String(decoding: try archive.data(order), as: UTF8.self)
            guard text == "little" else {
                throw FormatError.unsupportedDType(path: path, dtype: "\(text)-endian storages", supported: "little")
            }
        }
        var machine = PickleMachine(try archive.data(pickle), path: path, limits: limits, unknownGlobals: unknownGlobals)
        let object = try machine.run().object
        let lookup: StorageLookup = { storage in
            guard let entry = byName[prefix + "data/" + storage.key] else {
                throw FormatError.malformedArchive(path: path, reason: "storage entry '\(prefix)data/\(storage.key)' is missing")
            }
            return try storage.slice(of: try archive.data(entry), path: path)
        }
        return (object, lookup)
    }
}
