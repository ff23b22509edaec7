import Foundation

// The JSON bodies of the API (`/api/…`), in snake_case on the wire. Every
// field but the query itself has a default, so `{"prompt": "a bag"}` is a
// whole request. Images travel as `data:image/png;base64,…` URLs, which a
// page shows and downloads as they are.

/// `POST /api/sample`: K images for a prompt (text → image) or a class (label → image).
struct SampleRequest: Decodable {
    var prompt: String?
    var label: String?
    var count: Int?
    var seed: Int?
    var temperature: Float?
}

/// `POST /api/swap`: an image re-expressed under another caption or class.
struct SwapRequest: Decodable {
    /// The PNG, base64 (a data URL's prefix is allowed).
    var image: String
    /// The target caption (text → image) or class (label → image).
    var to: String
    /// The source caption or class; the classifier's class of the image when absent.
    var from: String?
    /// "text-to-image" (default) or "label-to-image".
    var experiment: String?
    var count: Int?
    var seed: Int?
}

/// `POST /api/query`: images for an image query (edges → image, inpainting, faces).
struct QueryRequest: Decodable {
    var experiment: String
    /// The PNG query; gan-translation may instead take a DCGAN face from `face_seed`.
    var image: String?
    /// gan-translation: a DCGAN face drawn from this seed, queried as `face_query`.
    var faceSeed: Int?
    /// "face" (default), "edges" or "masked".
    var faceQuery: String?
    /// The image is already the query (a drawn edge map, a hand-masked image).
    var isQuery: Bool?
    var count: Int?
    var seed: Int?
    var temperature: Float?
}

/// `POST /api/train`: train τ for an experiment from its recipe in `configs/`.
struct TrainRequest: Decodable {
    var experiment: String
    var steps: Int?
    /// Training images (every experiment but gan-translation), or sampled pairs (gan-translation).
    var trainImages: Int?
}

/// `POST /api/train` and `/api/train/stop`.
struct TrainResponse: Encodable {
    var status: String
    var experiment: String?
}

/// The answer of `/api/sample`, `/api/swap` and `/api/query`.
struct ImagesResponse: Encodable {
    var experiment: String
    /// Decoded results, one PNG each.
    var images: [String]
    var seed: UInt64
    var temperature: Float?
    /// Swap: the source condition used; query: nil.
    var source: String?
    /// Swap: the input as the autoencoder saw it; query: what Φ saw.
    var input: String?
    /// A query made from a DCGAN face: the face.
    var face: String?
    var milliseconds: Int
}

/// `GET /api/status`.
struct StatusResponse: Encodable {
    struct Queue: Encodable { var capacity: Int; var admitted: Int }
    struct Limits: Encodable {
        var maximumBodyBytes: Int
        var maximumImagePixels: Int
        var maximumCount: Int
        var maximumPromptLength: Int
    }
    var experiments: [String]
    var classes: [String]
    var queue: Queue
    var limits: Limits
}

/// `GET /api/examples`: one generated image per fashion class, to swap.
struct ExamplesResponse: Encodable {
    var captions: [String]
    var images: [String]
}

/// Every refusal: `{"error": "…"}`.
struct ErrorResponse: Encodable {
    var error: String
}
