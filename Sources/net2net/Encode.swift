import ArgumentParser
import Experts
import Formats
import Foundation
import TensorCore

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode queries with a pretrained expert: x → z_Φ.",
        discussion: """
        Experts: minilm — UTF-8 text, one sentence per line (--input - reads stdin) → \
        [N, 384] float32 sentence embeddings (all-MiniLM-L6-v2: mean pooling, L2-normalised; \
        inputs longer than 256 word pieces are truncated). The weights are fetched and cached \
        on first use (see `net2net assets`).

        Example:
          net2net encode --expert minilm --input captions.txt --output captions.npy
        """)

    @Option(help: "The expert: minilm.") var expert: String
    @Option(help: "Input file (- for standard input).") var input: String
    @Option(help: "Output .npy file.") var output: String
    @Option(help: "Sentences per batch.") var batchSize: Int = 32
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard expert == "minilm" else {
            throw ExpertError.badInput("unknown expert '\(expert)' for encode; available: minilm")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard output.hasSuffix(".npy") else { throw ExpertError.badInput("\(output): the output must be a .npy file") }
        let sentences = try Encode.readLines(input)
        let text = try TextExpert(store: AssetStore(), progress: { note("minilm: \($0)") })
        var rows: [Float] = []
        rows.reserveCapacity(sentences.count * TextExpert.dimension)
        var start = 0
        while start < sentences.count {
            let batch = Array(sentences[start..<min(sentences.count, start + batchSize)])
            rows += text.embed(batch).scalars
            start += batch.count
            if sentences.count > batchSize {
                FileHandle.standardError.write(Data("\rencoded \(start)/\(sentences.count)".utf8))
            }
        }
        if sentences.count > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }
        try NPY.write(Tensor(shape: [sentences.count, TextExpert.dimension], scalars: rows), to: fileURL(output))
        note("wrote [\(sentences.count), \(TextExpert.dimension)] → \(output)")
    }

    /// The lines of a UTF-8 file (or stdin for "-"), without line ends; a
    /// final line end does not start another line. Invalid UTF-8 is an
    /// error naming the line.
    static func readLines(_ path: String) throws -> [String] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ExpertError.badInput("\(path): no such file")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let name = path == "-" ? "standard input" : path
        var lines: [String] = []
        var pieces = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        for (index, piece) in pieces.enumerated() {
            var bytes = piece
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw ExpertError.badInput("\(name): line \(index + 1) is not valid UTF-8")
            }
            lines.append(line)
        }
        return lines
    }
}
