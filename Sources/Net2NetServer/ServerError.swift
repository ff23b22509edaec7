import Foundation
import Hummingbird

/// A request the server refuses, with its HTTP status. Sent as JSON
/// `{"error": "<message>"}`; `busy` adds a `Retry-After` header.
public enum ServerError: Error, LocalizedError, Sendable {
    /// 400: the request is malformed (bad JSON, a field out of range, an unreadable PNG).
    case badRequest(String)
    /// 404: no such page or endpoint, or a model that is not loaded.
    case notFound(String)
    /// 405: the path exists but not for this method.
    case methodNotAllowed(String)
    /// 409: the request conflicts with the server's state (a training already running, or none to stop).
    case conflict(String)
    /// 413: the body is larger than the server reads.
    case tooLarge(String)
    /// 415: the body is not JSON.
    case unsupportedMediaType(String)
    /// 503: the compute queue is full; try again after `retryAfter` seconds.
    case busy(retryAfter: Int)
    /// 500: the library failed on a well-formed request.
    case failed(String)

    public var errorDescription: String? {
        switch self {
        case .badRequest(let message), .notFound(let message), .methodNotAllowed(let message), .conflict(let message),
             .tooLarge(let message), .unsupportedMediaType(let message), .failed(let message):
            return message
        case .busy(let seconds):
            return "the server is busy (its compute queue is full); try again in \(seconds) s"
        }
    }

    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: return .badRequest
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict: return .conflict
        case .tooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .busy: return .serviceUnavailable
        case .failed: return .internalServerError
        }
    }
}
