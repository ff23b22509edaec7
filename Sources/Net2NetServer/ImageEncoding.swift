import Foundation
import Formats
import TensorCore

/// Images in and out of the API: PNG data URLs, and uploads decoded with
/// their size checked before any pixel is.
enum ImageEncoding {
    /// Small results are enlarged by nearest neighbour to at least this side,
    /// so that a downloaded PNG is large enough to see.
    static let displaySide = 112

    /// One data URL per image of `[N, C, H, W]` in [-1, 1] (C = 1 or 3).
    static func dataURLs(_ images: Tensor) throws -> [String] {
        precondition(images.rank == 4, "images are [N, C, H, W], got \(images.shape)")
        let N = images.shape[0], H = images.shape[2]
        let factor = max(1, displaySide / H)
        return try (0..<N).map { n in
            let image = PNGImage.grid(images.rows(n..<(n + 1)), columns: 1, border: 0).upscaled(by: factor)
            return "data:image/png;base64," + (try image.encoded()).base64EncodedString()
        }
    }

    /// Decodes an uploaded PNG, given as base64 or as a data URL. The header's
    /// width × height must be at most `maximumPixels` (checked before decoding).
    static func decodeUpload(_ text: String, field: String, maximumPixels: Int) throws -> PNGImage {
        var payload = Substring(text)
        if payload.hasPrefix("data:") {
            guard let comma = payload.firstIndex(of: ",") else {
                throw ServerError.badRequest("\(field): a data URL without a comma")
            }
            payload = payload[payload.index(after: comma)...]
        }
        guard let data = Data(base64Encoded: String(payload), options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw ServerError.badRequest("\(field): not base64 PNG data")
        }
        var limits = FormatLimits.defaults
        limits.imagePixels = maximumPixels
        do {
            return try PNGImage.decode(data, name: field, alpha: .drop, limits: limits)
        } catch {
            throw ServerError.badRequest((error as? LocalizedError)?.errorDescription ?? "\(field): \(error)")
        }
    }
}
