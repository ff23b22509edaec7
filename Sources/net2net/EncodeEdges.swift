import Experts
import Formats
import Foundation
import Net2Net
import TensorCore

extension Encode {
    /// `encode --expert hed`: images → HED edge probabilities `[N, 1, H, W]`
    /// in [0, 1] at the images' own size (or `--size`), as .npy or a PNG grid.
    func encodeEdges() throws {
        let isPNG = output.lowercased().hasSuffix(".png")
        guard isPNG || output.hasSuffix(".npy") else {
            throw ExpertError.badInput("\(output): the output of hed must be a .npy or .png file")
        }
        guard size.map({ $0 >= 1 && $0 <= 4096 }) ?? true else { throw ExpertError.badInput("--size must be in 1...4096") }
        let images = try ImageInput.loadSameSize(input, size: size.map { ($0, $0) })
        let detector = try ExpertRegistry.edgeDetector(loading: ExpertLoading(progress: { note($0) }))
        var maps: [Float] = []
        var start = 0
        let plane = images.height * images.width
        while start < images.count {
            let count = min(batchSize, images.count - start)
            let pixels = Array(images.pixels[(start * plane * 3)..<((start + count) * plane * 3)])
            maps += try detector.edges(pixels: pixels, count: count, height: images.height, width: images.width).scalars
            start += count
            if images.count > batchSize { FileHandle.standardError.write(Data("\rencoded \(start)/\(images.count)".utf8)) }
        }
        if images.count > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }
        let edges = Tensor(shape: [images.count, 1, images.height, images.width], scalars: maps)
        if isPNG {
            // The grid maps [-1, 1] to bytes: probability p is shown as 255·p, edges bright.
            let shown = Tensor(shape: edges.shape, scalars: maps.map { 2 * $0 - 1 })
            try PNGImage.grid(shown, columns: 8, border: images.count > 1 ? 2 : 0).write(to: fileURL(output))
        } else {
            try NPY.write(edges, to: fileURL(output))
        }
        note("wrote \(edges.shape) → \(output)")
    }
}
