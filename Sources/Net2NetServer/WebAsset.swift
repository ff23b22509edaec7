import Hummingbird

/// A file of the page, compiled into the binary as a string, so that the
/// server needs no file at run time (it works from any directory) and no
/// request path ever reaches the file system.
struct WebAsset: Sendable {
    let path: String
    let contentType: String
    let body: String

    /// Everything the page loads; nothing comes from another host.
    static let all = [
        WebAsset(path: "/", contentType: "text/html; charset=utf-8", body: PageHTML.text),
        WebAsset(path: "/app.js", contentType: "text/javascript; charset=utf-8", body: PageScript.text),
        WebAsset(path: "/app.css", contentType: "text/css; charset=utf-8", body: PageStyle.text),
    ]

    /// Only this origin's scripts, styles and images (and the data URLs of results).
    static let contentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    func response() -> Response {
        Response(status: .ok,
                 headers: [.contentType: contentType, .contentSecurityPolicy: WebAsset.contentSecurityPolicy,
                           .init("X-Content-Type-Options")!: "nosniff", .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
