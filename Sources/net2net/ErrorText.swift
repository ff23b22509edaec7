import ArgumentParser
import Foundation
import Net2Net

/// The one line after `error: ` for any error that reaches the command
/// line: `<path>: <problem>` for file-system errors (never Foundation's
/// `Error Domain=…` dump), the description of typed errors otherwise.
func errorText(_ error: Error) -> String {
    if let text = fileSystemErrorText(error) { return text }
    if case .parameter(let name, let problem)? = error as? Net2NetError { return "\(flag(forParameter: name)): \(problem)" }
    if let described = (error as? LocalizedError)?.errorDescription { return described }
    if let validation = error as? ValidationError { return validation.message }
    return "\(error)"
}

/// The command-line flag of a library parameter: `--` and the name in
/// kebab case (`from` → `--from`, `testImages` → `--test-images`).
func flag(forParameter name: String) -> String {
    "--" + name.reduce(into: "") { flag, character in
        if character.isUppercase { flag += "-" + character.lowercased() } else { flag.append(character) }
    }
}

/// `<path>: <reason>` for Foundation's file errors (CocoaError and POSIX),
/// with the system's reason (`strerror`) where one is known; nil for others.
func fileSystemErrorText(_ error: Error) -> String? {
    let error = error as NSError
    guard error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain else { return nil }
    let path = error.userInfo[NSFilePathErrorKey] as? String ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
    let reason: String
    if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(underlying.code)))
    } else if error.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(error.code)))
    } else {
        switch CocoaError.Code(rawValue: error.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or directory"
        case .fileWriteFileExists: reason = "already exists"
        case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
        case .fileWriteVolumeReadOnly: reason = "read-only file system"
        case .fileWriteOutOfSpace: reason = "no space left on device"
        case .fileReadCorruptFile: reason = "unreadable or corrupt"
        case .fileReadUnknown: reason = "cannot read (a directory, or not a regular file?)"
        case .fileReadInapplicableStringEncoding: reason = "not valid UTF-8 text"
        default: reason = "file operation failed (code \(error.code))"
        }
    }
    return path.map { "\($0): \(reason)" } ?? reason
}
