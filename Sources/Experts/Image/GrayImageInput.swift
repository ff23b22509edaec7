import Formats
import Foundation
import TensorCore

extension ImageInput {
    /// Images for our autoencoder and classifier: `[N, 1, 28, 28]` float32 in [-1, 1].
    ///
    /// Accepts, in order: `.npy` float32 `[N, 1, 28, 28]` already in [-1, 1];
    /// `.npy` uint8 `[N, 28, 28]` (or `[N, 28, 28, 1]`), mapped x = u8/127.5 − 1
    /// as the data sets are; PNG files or directories of PNGs, resized to 28×28
    /// (bilinear, as for EfficientNet) and turned gray as the mean of R, G and B.
    public static func loadGray(_ paths: [String], side: Int = 28) throws -> (images: Tensor, names: [String]) {
        var scalars: [Float] = [], names: [String] = []
        for path in paths {
            guard path.lowercased().hasSuffix(".npy") else {
                let batch = try load([path], side: side)
                scalars += gray(batch).scalars
                names += batch.names
                continue
            }
            guard FileManager.default.fileExists(atPath: path) else { throw ExpertError.badInput("\(path): no such file") }
            let array = try NPY.read(URL(fileURLWithPath: path))
            let shape = array.shape
            switch array.storage {
            case .float32(let values):
                guard shape.count == 4, shape[1] == 1, shape[2] == side, shape[3] == side else {
                    throw ExpertError.badInput("\(path): float32 images must be [N, 1, \(side), \(side)], got \(shape)")
                }
                guard values.allSatisfy({ $0.isFinite && abs($0) <= 1.001 }) else {
                    throw ExpertError.badInput("\(path): float32 images must lie in [-1, 1] (NaN, infinite or larger values found)")
                }
                scalars += values.map { min(max($0, -1), 1) }
            case .uint8(let bytes):
                guard (shape.count == 3 || (shape.count == 4 && shape[3] == 1)), shape[1] == side, shape[2] == side else {
                    throw ExpertError.badInput("\(path): uint8 images must be [N, \(side), \(side)] (gray), got \(shape)")
                }
                scalars += bytes.map { Float($0) / 127.5 - 1 }
            case .int64:
                throw ExpertError.badInput("\(path): images must be float32 [N, 1, \(side), \(side)] or uint8 [N, \(side), \(side)], got int64")
            }
            names += (0..<shape[0]).map { "\(path)[\($0)]" }
        }
        return (Tensor(shape: [names.count, 1, side, side], scalars: scalars), names)
    }

    /// Gray images `[N, 1, side, side]` in [-1, 1] of an RGB batch: the mean
    /// of R, G and B, mapped x = u8/127.5 − 1 as the data sets are.
    public static func gray(_ batch: Batch) -> Tensor {
        let plane = batch.side * batch.side
        var scalars = [Float](repeating: 0, count: batch.count * plane)
        for i in 0..<(batch.count * plane) {
            let mean = (Float(batch.pixels[3 * i]) + Float(batch.pixels[3 * i + 1]) + Float(batch.pixels[3 * i + 2])) / 3
            scalars[i] = mean / 127.5 - 1
        }
        return Tensor(shape: [batch.count, 1, batch.side, batch.side], scalars: scalars)
    }
}
