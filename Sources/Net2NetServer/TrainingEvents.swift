import Foundation
import Hummingbird

/// `GET /api/train/events`: the training's events as server-sent events,
/// `data: {json}` each, from the first one on, until the training ends (or
/// the client goes away). A client that connects when no training runs gets
/// what the last one left and the stream ends.
enum TrainingEvents {
    static let pollNanoseconds: UInt64 = 200_000_000

    static func response(_ session: TrainingSession) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = ResponseBody { writer in
            var next = 0
            while true {
                let (events, finished) = session.events(from: next)
                for event in events {
                    let json = String(decoding: try encoder.encode(event), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "data: \(json)\n\n"))
                }
                next += events.count
                if finished && events.isEmpty { break }
                try await Task.sleep(nanoseconds: pollNanoseconds)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }
}
