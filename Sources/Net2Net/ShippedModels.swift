import Foundation

/// The trained autoencoder (with its learned prior), evaluation classifier and text-to-image τ that
/// ship with the package (`models/`), so that users do not have to retrain them.
///
/// Looked for, in this order: `$NET2NET_MODELS` (e.g. a directory of
/// retrained models); beside an installed executable,
/// `<executable's directory>/../share/net2net/models` and then
/// `<executable's directory>/models`; the `models/` directory of this
/// source tree. The first that holds the file wins; when none does, the
/// error lists every place looked at.
public enum ShippedModels {
    public static let autoencoderFile = "autoencoder.safetensors"
    public static let classifierFile = "classifier.safetensors"
    public static let textToImageDirectory = "text-to-image"
    /// The autoencoder's learned prior: an unconditional τ on its latents.
    public static let autoencoderPriorDirectory = "autoencoder-prior"

    /// The directories searched, in order.
    public static var searchPath: [URL] {
        var path: [URL] = []
        if let models = ProcessInfo.processInfo.environment["NET2NET_MODELS"], !models.isEmpty {
            path.append(URL(fileURLWithPath: models))
        }
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            let directory = executable.deletingLastPathComponent()
            path.append(directory.deletingLastPathComponent().appendingPathComponent("share/net2net/models").standardizedFileURL)
            path.append(directory.appendingPathComponent("models"))
        }
        path.append(sourceRoot.appendingPathComponent("models"))
        return path
    }

    /// The shipped file or directory `name` from the first directory of `searchPath` holding it.
    public static func locate(_ name: String) throws -> URL {
        let path = searchPath
        for directory in path where FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            return directory.appendingPathComponent(name)
        }
        throw Net2NetError.checkpoint(path: name, problem: "shipped model not found; looked in "
            + path.map(\.path).joined(separator: ", ")
            + " (set NET2NET_MODELS to a directory holding it, or install models/ as <prefix>/share/net2net/models)")
    }

    /// The root of this source tree (where `models/` and `configs/` are).
    public static var sourceRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A recipe of `configs/` by file name.
    public static func recipe(_ name: String) -> URL {
        sourceRoot.appendingPathComponent("configs").appendingPathComponent(name)
    }

    public static var autoencoder: URL { get throws { try locate(autoencoderFile) } }
    public static var classifier: URL { get throws { try locate(classifierFile) } }
    public static var textToImage: URL { get throws { try locate(textToImageDirectory) } }
    public static var autoencoderPrior: URL { get throws { try locate(autoencoderPriorDirectory) } }
}
