import Foundation

/// Where `net2net serve` listens and the limits it holds every request to.
///
/// The defaults keep the server private and bounded: it listens on the
/// loopback address only, reads at most `maximumBodyBytes` of a request,
/// refuses images larger than `maximumImagePixels` from their PNG header,
/// and lets at most `queueCapacity` compute requests wait or run at once
/// (more get 503 with Retry-After).
public struct ServerConfiguration: Sendable {
    /// The address to bind; 127.0.0.1 unless the user asks for another.
    public var host = "127.0.0.1"
    /// The port; 0 asks the system for a free one (tests).
    public var port = 8080
    /// A directory of experiment checkpoints (`text-to-image/`, `label-to-image/`,
    /// `edges-to-image/`, `inpainting/`, `gan-translation/`), or nil for the shipped models.
    public var modelsDirectory: URL?
    /// The largest request body read, in bytes (a PNG upload travels base64 inside JSON).
    public var maximumBodyBytes = 2 << 20
    /// The largest uploaded image, in pixels, checked from the PNG header before decoding.
    public var maximumImagePixels = 1024 * 1024
    /// The most images one request may ask for.
    public var maximumCount = 64
    /// The longest prompt or caption, in characters.
    public var maximumPromptLength = 500
    /// Compute requests running or waiting at once; beyond it the answer is 503.
    public var queueCapacity = 8
    /// Log only critical events (tests, which stop servers by cancelling them).
    public var quiet = false

    public init(host: String = "127.0.0.1", port: Int = 8080, modelsDirectory: URL? = nil) {
        self.host = host
        self.port = port
        self.modelsDirectory = modelsDirectory
    }
}
