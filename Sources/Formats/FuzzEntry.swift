import Foundation

/// Entry points for the libFuzzer harness in `fuzz/` (see `scripts/fuzz`):
/// each decodes `bytes` as one format, in memory, under `limits`, and
/// touches every byte the decoder says is valid. Throwing is the expected
/// outcome for most inputs; a finding is a crash, trap, leak or
/// out-of-bounds access. Not for applications: use the format types.
@_spi(Fuzzing) public enum FuzzEntry {
    /// The formats `run` knows, by target name.
    public static let targets = ["npy", "safetensors", "pickle", "zip", "pytorch", "png", "idx", "csv", "gzip", "hdf5"]

    /// Decodes `bytes` as `target` (one of `targets`); unknown names are a
    /// programmer error.
    public static func run(_ target: String, _ bytes: UnsafeRawBufferPointer, limits: FormatLimits) throws {
        let path = "fuzz-input"
        switch target {
        case "npy":
            _ = try NPY.read(bytes, path: path, limits: limits)
        case "safetensors":
            let header = try SafeTensorsHeader.parse(bytes, path: path, limits: limits)
            for entry in header.entries.values {
                let start = header.dataOffset + entry.dataOffsets.lowerBound
                _ = checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.dataOffsets.count)]))
            }
        case "pickle":
            // Both policies for unknown globals: refused, and kept as placeholders.
            for policy in [PyTorchCheckpoint.UnknownGlobals.refuse, .placeholder] {
                var machine = PickleMachine(bytes, path: path, limits: limits, unknownGlobals: policy)
                guard let object = try? machine.run().object else { continue }
                // Every storage reads as 64 stored bytes, so views and strides are checked against them.
                let stored = [UInt8](repeating: 0x3F, count: 64)
                try stored.withUnsafeBytes { data in
                    _ = try PyTorchCheckpoint.convert(object, { try $0.slice(of: data, path: path) }, path: path, limits: limits)
                }
            }
        case "zip":
            let archive = try ZipArchive(bytes, path: path, limits: limits)
            for entry in archive.entries { _ = try? checksum(archive.data(entry)) }
        case "pytorch":
            _ = try PyTorchCheckpoint.load(bytes, path: path, limits: limits).tensors
        case "png":
            _ = try PNGImage.decode(bytes, path: path, alpha: .drop, limits: limits)
        case "idx":
            _ = try IDXFile.parse(bytes, path: path, rank: nil, limits: limits)
        case "csv":
            _ = try LabeledPixelsCSV.parse(bytes, path: path, featureCount: 4, labelColumn: .last, classCount: 10)
        case "gzip":
            _ = try Gzip.decompress(bytes, path: path, limits: limits)
        case "hdf5":
            let index = try HDF5Index.parse(bytes, path: path, limits: limits)
            for dataset in index.datasets.values { _ = checksum(UnsafeRawBufferPointer(rebasing: bytes[dataset.data])) }
        default:
            preconditionFailure("unknown fuzz target '\(target)'; known: \(targets.joined(separator: ", "))")
        }
    }

    /// Reads every byte (so that an out-of-bounds slice is noticed).
    private static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
        bytes.reduce(0, &+)
    }
}
