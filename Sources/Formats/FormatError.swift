import Foundation

/// Everything that can go wrong reading or writing an array or checkpoint file.
///
/// Every case names the file, and `errorDescription` reads `"<path>: <problem>"`,
/// e.g. `"data/z.npy: truncated: header says 1000×128 float32 (512000 bytes) but
/// only 4096 bytes of data"`, so a CLI can print it as is.
public enum FormatError: Error, LocalizedError, Equatable {
    /// No file at `path`.
    case missingFile(path: String)
    /// The file exists but holds no bytes.
    case emptyFile(path: String)
    /// The file exists but cannot be opened or mapped (a directory, permissions…).
    case unreadable(path: String, reason: String)
    /// The leading bytes are not the signature of `format` (e.g. `".npy"`).
    case badMagic(path: String, format: String)
    /// The header cannot be parsed, or contradicts itself or the file size.
    case malformedHeader(path: String, reason: String)
    /// An element type this reader does not handle; `supported` lists those it does.
    case unsupportedDType(path: String, dtype: String, supported: String)
    /// A `.npy` array stored column-major.
    case fortranOrder(path: String)
    /// The file holds fewer data bytes than its header promises.
    case truncated(path: String, reason: String)
    /// One entry of a safetensors header is invalid (unknown dtype, negative
    /// extent, offsets outside the data or disagreeing with shape × dtype).
    case invalidTensor(path: String, name: String, reason: String)
    /// No tensor of that name in the file.
    case tensorNotFound(path: String, name: String)
    /// The data is valid but not of the type the caller asked for; `tensor`
    /// is nil for single-array formats (.npy).
    case wrongDType(path: String, tensor: String?, found: String, expected: String)
    /// Writing, syncing or renaming the file failed; the old file is intact.
    case writeFailed(path: String, reason: String)
    /// A pickle names a Python global outside the allow-list (`"posix.system"`);
    /// refused before anything is done with it.
    case disallowedGlobal(path: String, name: String)
    /// A pickle stream that is damaged, uses an opcode this reader does not
    /// interpret, or builds objects a checkpoint does not contain.
    case malformedPickle(path: String, reason: String)
    /// A zip archive that is damaged or uses features this reader lacks
    /// (compression, encryption, multiple disks).
    case malformedArchive(path: String, reason: String)
    /// The container is well formed but its contents are not what the format
    /// allows: a damaged compressed stream, a CSV field that is not a number,
    /// a label outside its range, files of one data set that disagree.
    case invalidData(path: String, reason: String)
    /// The file asks for more than a `FormatLimits` limit allows (elements,
    /// pixels, nesting, header or inflated bytes); `what` says what was
    /// counted. Checked before anything of that size is allocated.
    case limitExceeded(path: String, limit: FormatLimits.Name, value: Int, maximum: Int, what: String)

    /// The file the error is about, as the caller spelled it.
    public var path: String {
        switch self {
        case .missingFile(let path), .emptyFile(let path), .fortranOrder(let path),
             .unreadable(let path, _), .badMagic(let path, _), .malformedHeader(let path, _),
             .unsupportedDType(let path, _, _), .truncated(let path, _),
             .invalidTensor(let path, _, _), .tensorNotFound(let path, _),
             .wrongDType(let path, _, _, _), .writeFailed(let path, _),
             .disallowedGlobal(let path, _), .malformedPickle(let path, _),
             .malformedArchive(let path, _), .invalidData(let path, _),
             .limitExceeded(let path, _, _, _, _):
            return path
        }
    }

    /// What is wrong, without the path.
    public var problem: String {
        switch self {
        case .missingFile:
            return "missing file"
        case .emptyFile:
            return "empty file"
        case .unreadable(_, let reason):
            return "cannot read: \(reason)"
        case .badMagic(_, let format):
            return "not a \(format) file (bad magic)"
        case .malformedHeader(_, let reason):
            return "malformed header: \(reason)"
        case .unsupportedDType(_, let dtype, let supported):
            return "unsupported dtype \(dtype) (supported: \(supported))"
        case .fortranOrder:
            return "Fortran-order arrays are not supported; save with np.ascontiguousarray"
        case .truncated(_, let reason):
            return "truncated: \(reason)"
        case .invalidTensor(_, let name, let reason):
            return "tensor '\(name)': \(reason)"
        case .tensorNotFound(_, let name):
            return "tensor '\(name)' not found"
        case .wrongDType(_, let tensor, let found, let expected):
            let subject = tensor.map { "tensor '\($0)' has" } ?? "array has"
            return "\(subject) dtype \(found), expected \(expected)"
        case .writeFailed(_, let reason):
            return "cannot write: \(reason)"
        case .disallowedGlobal(_, let name):
            return "refusing to load pickle global '\(name)': only PyTorch tensors, storages "
                + "and OrderedDict are allowed (a checkpoint never needs anything else)"
        case .malformedPickle(_, let reason):
            return "malformed pickle: \(reason)"
        case .malformedArchive(_, let reason):
            return "malformed zip archive: \(reason)"
        case .invalidData(_, let reason):
            return "invalid data: \(reason)"
        case .limitExceeded(_, let limit, let value, let maximum, let what):
            return "\(what): \(limit.subject) \(value) exceeds the limit \(maximum); if the file is "
                + "genuine, raise it with \(limit.environmentVariable)=<n> (or FormatLimits.\(limit.rawValue))"
        }
    }

    public var errorDescription: String? { "\(path): \(problem)" }
}

/// The path to show in messages: what the caller typed for relative file URLs.
func displayPath(_ url: URL) -> String {
    url.isFileURL ? url.relativePath : url.absoluteString
}

/// `1000×128` for `[1000, 128]`, `()` for a scalar shape.
func describeShape(_ shape: [Int]) -> String {
    shape.isEmpty ? "()" : shape.map(String.init).joined(separator: "×")
}

/// The message of the current `errno`.
func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
