@_spi(Fuzzing) import Formats
import Foundation
import Tokenizer

/// One libFuzzer binary for every parser; `NET2NET_FUZZ_TARGET` picks the
/// format (`FuzzEntry.targets`, or `wordpiece` for the tokenizer).
///
/// Limits are lowered from the defaults so that a legal but large claim
/// (a 4 GiB tensor) is refused quickly instead of tripping libFuzzer's
/// memory limit; the checks under test are the same.
let target = ProcessInfo.processInfo.environment["NET2NET_FUZZ_TARGET"] ?? ""

let limits: FormatLimits = {
    var limits = FormatLimits.defaults
    limits.tensorElements = 1 << 22
    limits.fileElements = 1 << 23
    limits.imagePixels = 1 << 22
    limits.pickleStack = 1 << 16
    limits.pickleMemo = 1 << 16
    limits.pickleObjects = 1 << 18
    limits.inflatedBytes = 1 << 26
    limits.csvBytes = 1 << 26
    return limits
}()

/// A small BERT vocabulary written once to a temporary file: the specials,
/// some words and `##` pieces, accented and CJK entries.
let tokenizer: WordPieceTokenizer = {
    let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "##s", "##ing", "un", "##able",
                      "run", "##n", "é", "caf", "##é", "中", "!", ",", ".", "'", "x", "##x", "##y"]
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("net2net-fuzz-vocab-\(getpid()).txt")
    try! vocabulary.joined(separator: "\n").appending("\n").write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    return try! WordPieceTokenizer(vocabulary: url, maxLength: 64)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    if target == "wordpiece" {
        let text = String(decoding: bytes, as: UTF8.self)
        let ids = tokenizer.encode(text)
        precondition(ids.count <= 64 && ids.first == tokenizer.clsID && ids.last == tokenizer.sepID)
        _ = tokenizer.tokens(text)
        return 0
    }
    precondition(FuzzEntry.targets.contains(target),
                 "set NET2NET_FUZZ_TARGET to one of: wordpiece, \(FuzzEntry.targets.joined(separator: ", "))")
    _ = try? FuzzEntry.run(target, bytes, limits: limits)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The program's entry point: SwiftPM links an executable's `main` to
/// `<module>_main`; this hands the command line to libFuzzer's driver.
@_cdecl("FuzzTargets_main")
public func fuzzTargetsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
