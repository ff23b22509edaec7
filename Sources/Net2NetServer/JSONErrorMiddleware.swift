import Foundation
import Hummingbird
import NIOHTTP1

/// Turns every error of a route into JSON `{"error": "…"}` with its status:
/// `ServerError` as it says, the router's own (`HTTPError`: no such route, a
/// body over the limit) with theirs, anything else as 500. HTTP that does
/// not parse (a bad chunk in a body) goes back to the server, which answers
/// 400 and closes the connection. A malformed request never ends the server.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPParserError {
            throw error
        } catch let error as ServerError {
            var response = JSONResponse.error(error.errorDescription ?? "\(error)", status: error.status)
            if case .busy(let seconds) = error { response.headers[.retryAfter] = String(seconds) }
            return response
        } catch let error as HTTPError {
            let message: String
            switch error.status {
            case .notFound: message = "no such page or endpoint: \(request.method) \(request.uri.path.prefix(200))"
            case .contentTooLarge: message = "the request body is larger than the server reads"
            default: message = error.body ?? error.status.reasonPhrase
            }
            return JSONResponse.error(message, status: error.status)
        } catch {
            return JSONResponse.error((error as? LocalizedError)?.errorDescription ?? "\(error)", status: .internalServerError)
        }
    }
}
