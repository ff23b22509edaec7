import Foundation

/// Errors of the experts and their assets, each naming the asset or file.
public enum ExpertError: Error, LocalizedError, Equatable {
    /// An unknown asset name.
    case unknownAsset(String, known: [String])
    /// Fetching failed: asset and what went wrong.
    case fetchFailed(asset: String, reason: String)
    /// A file does not have the expected SHA-256.
    case hashMismatch(path: String, expected: String, found: String)
    /// A file of an asset is missing or unusable.
    case badAsset(path: String, problem: String)
    /// Input the expert cannot take.
    case badInput(String)
    /// An unknown expert name: the name, what was looked for ("expert",
    /// "generator", "condition encoder"), and the names known for that.
    case unknownExpert(String, role: String, known: [String])
    /// An expert whose weights are not fetched as an asset was asked for
    /// without its weights file: the expert and what it needs (`ExpertDescription.weightsNeeded`).
    case weightsRequired(expert: String, needed: String)

    public var errorDescription: String? {
        switch self {
        case .unknownAsset(let name, let known):
            return "unknown asset '\(name)'; known assets: \(known.joined(separator: ", "))"
        case .fetchFailed(let asset, let reason):
            return "could not fetch asset '\(asset)': \(reason)"
        case .hashMismatch(let path, let expected, let found):
            return "\(path): SHA-256 is \(found), expected \(expected); the file is corrupt or was changed — delete it and fetch again"
        case .badAsset(let path, let problem):
            return "\(path): \(problem)"
        case .badInput(let message):
            return message
        case .unknownExpert(let name, let role, let known):
            return "unknown \(role) '\(name)'; known: \(known.joined(separator: ", "))"
        case .weightsRequired(let expert, let needed):
            return "\(expert) needs its weights file (--weights FILE): \(needed)"
        }
    }
}
