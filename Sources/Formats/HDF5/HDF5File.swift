import Foundation
import TensorCore

/// An HDF5 file of float32 arrays — such as the Keras `.weights.h5` files
/// of pretrained models — memory-mapped: opening walks the group tree and
/// validates every dataset's header and extent (`HDF5Index`), reading no
/// data; each `tensor(_:)` copies one dataset out of the mapping.
///
/// Only the subset of HDF5 that h5py writes by default for such files is
/// read: superblock version 0 or 1, version-1 object headers, symbol-table
/// groups, and contiguous or compact little-endian float32 datasets.
/// Anything else — chunked or compressed data, other element types,
/// new-style groups — is refused with an error naming the file and the
/// feature. Attributes are not read.
public final class HDF5File: @unchecked Sendable {
    // @unchecked: the mapping is read-only and never changes after init.
    private let file: MappedFile
    private let index: HDF5Index

    /// The datasets' paths (`"block1/layers/conv2d/vars/0"`), sorted.
    public let names: [String]

    /// Maps and validates `url`, refusing datasets above `limits`.
    public init(contentsOf url: URL, limits: FormatLimits = .fromEnvironment()) throws {
        file = try MappedFile(url)
        index = try HDF5Index.parse(file.bytes, path: file.path, limits: limits)
        names = index.datasets.keys.sorted()
    }

    /// The shape of dataset `name`, or nil when there is none.
    public func shape(_ name: String) -> [Int]? {
        index.datasets[name]?.shape
    }

    /// The dataset `name` as a Float32 tensor of its shape (row-major, as HDF5 stores it).
    public func tensor(_ name: String) throws -> Tensor {
        guard let dataset = index.datasets[name] else { throw FormatError.tensorNotFound(path: file.path, name: name) }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[dataset.data])
        return Tensor(shape: dataset.shape, scalars: copyElements(of: Float.self, from: bytes))
    }
}
