import Formats
import Foundation

extension ImageInput {
    /// RGB images of one size, not necessarily square: `[count, height, width, 3]` bytes.
    public struct Pictures: Sendable {
        public var pixels: [UInt8]
        public var count: Int
        public var height: Int
        public var width: Int
        /// The file of each image (`file.npy[3]` for arrays).
        public var names: [String]
    }

    /// Loads every image of `paths` (files as for `load`: `.npy` uint8
    /// `[N, H, W, 3]`, PNG files, directories of PNGs) at its own size, which
    /// must then be the same for all; with `size`, each image is resized to
    /// `size` instead (`resizeBilinear`, rounded to bytes).
    public static func loadSameSize(_ paths: [String], size: (height: Int, width: Int)? = nil) throws -> Pictures {
        var pictures = Pictures(pixels: [], count: 0, height: size?.height ?? 0, width: size?.width ?? 0, names: [])
        func append(_ image: PNGImage, name: String) throws {
            if pictures.count == 0 && size == nil { (pictures.height, pictures.width) = (image.height, image.width) }
            guard size != nil || (image.height == pictures.height && image.width == pictures.width) else {
                throw ExpertError.badInput("\(name): \(image.height)×\(image.width) differs from the first image's "
                    + "\(pictures.height)×\(pictures.width); the images must share one size (or give a size to resize them to)")
            }
            pictures.pixels += resized(image, height: pictures.height, width: pictures.width)
            pictures.names.append(name)
            pictures.count += 1
        }
        for path in try imageFiles(paths) {
            guard path.lowercased().hasSuffix(".npy") else {
                try append(try readPNG(path), name: path)
                continue
            }
            let array = try NPY.read(URL(fileURLWithPath: path))
            guard case .uint8(let bytes) = array.storage, array.shape.count == 4, array.shape[3] == 3,
                  array.shape[1] > 0, array.shape[2] > 0 else {
                throw ExpertError.badInput("\(path): images must be a uint8 array [N, H, W, 3], got shape \(array.shape)")
            }
            let (N, H, W) = (array.shape[0], array.shape[1], array.shape[2])
            for n in 0..<N {
                let image = PNGImage(width: W, height: H, pixels: Array(bytes[(n * H * W * 3)..<((n + 1) * H * W * 3)]))
                try append(image, name: "\(path)[\(n)]")
            }
        }
        return pictures
    }
}
