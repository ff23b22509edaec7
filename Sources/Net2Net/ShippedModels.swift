import Foundation

/// The trained autoencoder and evaluation classifier that ship with the
/// package (`models/`), so that users do not have to retrain them.
/// `NET2NET_MODELS` points elsewhere (e.g. a directory of retrained models).
public enum ShippedModels {
    public static let autoencoderFile = "autoencoder.safetensors"
    public static let classifierFile = "classifier.safetensors"

    /// `$NET2NET_MODELS`, else the `models/` directory of this source tree.
    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["NET2NET_MODELS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return sourceRoot.appendingPathComponent("models")
    }

    /// The root of this source tree (where `models/` and `configs/` are).
    public static var sourceRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A recipe of `configs/` by file name.
    public static func recipe(_ name: String) -> URL {
        sourceRoot.appendingPathComponent("configs").appendingPathComponent(name)
    }

    public static var autoencoder: URL { directory.appendingPathComponent(autoencoderFile) }
    public static var classifier: URL { directory.appendingPathComponent(classifierFile) }
}
