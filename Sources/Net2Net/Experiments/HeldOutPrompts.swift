import Experts
import Foundation

/// Free-text prompts for testing whether the text → image model generalises
/// beyond its training captions, each with the class an image drawn for it
/// should have (the 20-class scheme: fashion 0–9, digit d is 10 + d).
///
/// None of them is a caption `CaptionGenerator` can produce, and every one
/// has at least one word outside the generator's vocabulary (tests check
/// both), so a model can answer them only through the text expert's
/// knowledge of language, not by recalling a training sentence.
public struct HeldOutPrompt: Sendable, Equatable {
    public var text: String
    /// The expected class, 0–19.
    public var label: Int

    public init(_ text: String, label: Int) {
        self.text = text
        self.label = label
    }

    /// Prompts from a text file of the user's: one prompt a line, `LABEL<TAB>TEXT`,
    /// LABEL a class number 0–19 or a class name of `EvaluationClassifier.classNames`
    /// (any case; "digit 7" too). Blank lines and lines starting with "#" are skipped.
    /// Throws `Net2NetError.data` naming the file and line of the first bad line.
    public static func parse(_ text: String, path: String) throws -> [HeldOutPrompt] {
        var prompts: [HeldOutPrompt] = []
        // A byte-order mark (as some editors save UTF-8) is not part of the first class;
        // "\r\n" is one Character in Swift, so lines are cut at any newline character.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            func problem(_ message: String) -> Net2NetError {
                .data(path: path, problem: "line \(index + 1): \(message)")
            }
            guard fields.count == 2, !fields[1].isEmpty else {
                throw problem("expected a class, a tab and the prompt's text")
            }
            guard let label = classLabel(fields[0]) else {
                throw problem("'\(fields[0])' is not a class: give 0–19 or one of \(EvaluationClassifier.classNames.joined(separator: ", "))")
            }
            prompts.append(HeldOutPrompt(fields[1], label: label))
        }
        guard !prompts.isEmpty else { throw Net2NetError.data(path: path, problem: "no prompts (one a line: class, tab, text)") }
        return prompts
    }

    /// The largest prompt file `load` reads: far more text than any prompt set needs.
    public static let maximumFileBytes = 16 << 20

    /// Prompts from the text file at `url` (`parse`'s format). Throws
    /// `Net2NetError.data` naming the file when it cannot be read, is larger
    /// than `maximumFileBytes` or is not UTF-8 text.
    public static func load(_ url: URL) throws -> [HeldOutPrompt] {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            // One byte past the limit tells an oversized file without reading it whole.
            data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        } catch {
            throw Net2NetError.data(path: url.path, problem: "cannot read it (\(error.localizedDescription))")
        }
        guard data.count <= maximumFileBytes else {
            throw Net2NetError.data(path: url.path, problem: "larger than \(maximumFileBytes >> 20) MiB; a prompt file is one short line a prompt")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Net2NetError.data(path: url.path, problem: "not UTF-8 text")
        }
        return try parse(text, path: url.path)
    }

    /// A class number 0–19 or a class name (any case), or nil.
    static func classLabel(_ field: String) -> Int? {
        if let number = Int(field) { return (0..<EvaluationClassifier.classCount).contains(number) ? number : nil }
        let names = EvaluationClassifier.classNames.map { $0.lowercased() }
        return names.firstIndex(of: field.lowercased())
    }

    /// At least three prompts per fashion class and two per digit, in label order.
    public static let all: [HeldOutPrompt] = [
        // 0 T-shirt/top
        HeldOutPrompt("a short-sleeved cotton tee", label: 0),
        HeldOutPrompt("a casual crew-neck top without a collar", label: 0),
        HeldOutPrompt("sleeveless top for the gym", label: 0),
        // 1 trouser
        HeldOutPrompt("legwear", label: 1),
        HeldOutPrompt("jeans for everyday wear", label: 1),
        HeldOutPrompt("something to cover both legs", label: 1),
        // 2 pullover
        HeldOutPrompt("a knitted top with long sleeves", label: 2),
        HeldOutPrompt("woolly knitwear for cold days", label: 2),
        HeldOutPrompt("a cosy knit you pull over your head", label: 2),
        // 3 dress
        HeldOutPrompt("a summer frock", label: 3),
        HeldOutPrompt("an elegant evening outfit for a ball", label: 3),
        HeldOutPrompt("what a bridesmaid wears", label: 3),
        // 4 coat
        HeldOutPrompt("a warm thing to wear over your clothes in winter", label: 4),
        HeldOutPrompt("outerwear for rainy weather", label: 4),
        HeldOutPrompt("a padded winter parka", label: 4),
        // 5 sandal
        HeldOutPrompt("open shoes with straps", label: 5),
        HeldOutPrompt("flip flops for the pool", label: 5),
        HeldOutPrompt("strappy summer footwear", label: 5),
        // 6 shirt
        HeldOutPrompt("a collared office shirt with long sleeves", label: 6),
        HeldOutPrompt("a flannel shirt with buttons", label: 6),
        HeldOutPrompt("formal wear for the upper body, buttoned down the front", label: 6),
        // 7 sneaker
        HeldOutPrompt("footwear for jogging", label: 7),
        HeldOutPrompt("sports shoes for the gym", label: 7),
        HeldOutPrompt("lace-up kicks for a run", label: 7),
        // 8 bag
        HeldOutPrompt("something to carry your things in", label: 8),
        HeldOutPrompt("a leather tote", label: 8),
        HeldOutPrompt("a satchel for books", label: 8),
        // 9 ankle boot
        HeldOutPrompt("footwear that covers the ankle", label: 9),
        HeldOutPrompt("a chelsea boot", label: 9),
        HeldOutPrompt("a heeled bootie for autumn", label: 9),
        // digits
        HeldOutPrompt("a zero drawn with a pen", label: 10),
        HeldOutPrompt("a scribbled nought", label: 10),
        HeldOutPrompt("numeral one, written by hand", label: 11),
        HeldOutPrompt("a single vertical stroke meaning one", label: 11),
        HeldOutPrompt("handwritten numeral two", label: 12),
        HeldOutPrompt("two, scrawled in ink", label: 12),
        HeldOutPrompt("handwritten numeral three", label: 13),
        HeldOutPrompt("three, penned quickly", label: 13),
        HeldOutPrompt("the figure four", label: 14),
        HeldOutPrompt("four, written by hand", label: 14),
        HeldOutPrompt("a sketched numeral five", label: 15),
        HeldOutPrompt("five in someone's handwriting", label: 15),
        HeldOutPrompt("the figure six, handwritten", label: 16),
        HeldOutPrompt("a pencilled six", label: 16),
        HeldOutPrompt("seven, written by hand", label: 17),
        HeldOutPrompt("a numeral 7 from a form", label: 17),
        HeldOutPrompt("the figure eight", label: 18),
        HeldOutPrompt("eight, scribbled on paper", label: 18),
        HeldOutPrompt("handwritten numeral nine", label: 19),
        HeldOutPrompt("nine, as a person writes it", label: 19),
    ]

    /// A second held-out set: paraphrases written from the class names alone,
    /// without seeing the caption generator or the first set (five per fashion
    /// class, three per digit; a few carry typos, as users' prompts do).
    public static let paraphrases: [HeldOutPrompt] = [
        // 0 T-shirt/top
        HeldOutPrompt("plain white tee with short sleeves", label: 0),
        HeldOutPrompt("a crew neck t shirt, short sleeved, the kind you wear under a hoodie", label: 0),
        HeldOutPrompt("striped cotton tshirt", label: 0),
        HeldOutPrompt("a black tank top with no sleeves", label: 0),
        HeldOutPrompt("casual short-sleeve tee with a graphic print on the front", label: 0),
        // 1 trouser
        HeldOutPrompt("pair of blue jeans", label: 1),
        HeldOutPrompt("grey wool slacks for the office", label: 1),
        HeldOutPrompt("long trousers with two straight legs and a waistband", label: 1),
        HeldOutPrompt("khaki chinos, full length", label: 1),
        HeldOutPrompt("comfy jogging bottoms", label: 1),
        // 2 pullover
        HeldOutPrompt("a warm knitted jumper", label: 2),
        HeldOutPrompt("chunky cable-knit sweater you pull on over your head", label: 2),
        HeldOutPrompt("grey knit jumpr with long sleeves", label: 2),
        HeldOutPrompt("cozy wool sweater for winter, no buttons or zip", label: 2),
        HeldOutPrompt("a thick crewneck pullover knitted from wool", label: 2),
        // 3 dress
        HeldOutPrompt("knee-length sundress with thin shoulder straps", label: 3),
        HeldOutPrompt("an elegant evening gown that goes all the way down to the floor", label: 3),
        HeldOutPrompt("little black dress for a party", label: 3),
        HeldOutPrompt("floral sleeveless dress that flares out at the hem", label: 3),
        // 4 coat
        HeldOutPrompt("long winter overcoat with buttons down the front", label: 4),
        HeldOutPrompt("a belted trench coat", label: 4),
        HeldOutPrompt("heavy wool coat that reaches the knees", label: 4),
        HeldOutPrompt("padded parka with a zip and long sleeves", label: 4),
        HeldOutPrompt("thick warm coat for snowy weather", label: 4),
        // 5 sandal
        HeldOutPrompt("open-toe summer sandals with straps", label: 5),
        HeldOutPrompt("flip flops for the beach", label: 5),
        HeldOutPrompt("a strappy high-heeled sandal", label: 5),
        HeldOutPrompt("leather sandal with a buckle strap across the foot", label: 5),
        HeldOutPrompt("sandles to wear at the pool", label: 5),
        // 6 shirt
        HeldOutPrompt("a button-down collared shirt with long sleeves", label: 6),
        HeldOutPrompt("formal office shirt with a collar and buttoned cuffs", label: 6),
        HeldOutPrompt("plaid flannel shirt that buttons up the front", label: 6),
        HeldOutPrompt("short-sleeved hawaiian shirt with a collar and buttons", label: 6),
        HeldOutPrompt("a smart blouse with a collar and button front", label: 6),
        // 7 sneaker
        HeldOutPrompt("pair of running shoes", label: 7),
        HeldOutPrompt("white trainers", label: 7),
        HeldOutPrompt("low-top canvas sneakers with laces", label: 7),
        HeldOutPrompt("an athletic shoe for jogging, low cut with a rubber sole", label: 7),
        HeldOutPrompt("sneakr for the gym", label: 7),
        // 8 bag
        HeldOutPrompt("leather handbag with a top handle", label: 8),
        HeldOutPrompt("a canvas tote bag", label: 8),
        HeldOutPrompt("shoulder bag with a long strap", label: 8),
        HeldOutPrompt("a woman's purse with a clasp and handle", label: 8),
        HeldOutPrompt("shopping bag with two handles", label: 8),
        // 9 ankle boot
        HeldOutPrompt("short boots that stop just above the ankle", label: 9),
        HeldOutPrompt("chelsea boots with elastic side panels", label: 9),
        HeldOutPrompt("heeled ankle booties", label: 9),
        HeldOutPrompt("a leather boot that covers the ankle, with a low heel and a zip on the side", label: 9),
        HeldOutPrompt("suede ankle boot for autumn", label: 9),
        // 10 digit 0
        HeldOutPrompt("the number 0 scribbled by hand", label: 10),
        HeldOutPrompt("a handwritten zero", label: 10),
        HeldOutPrompt("nought written in pen, a digit not a letter", label: 10),
        // 11 digit 1
        HeldOutPrompt("a handwritten one", label: 11),
        HeldOutPrompt("the numeral 1 written with a pen", label: 11),
        HeldOutPrompt("number one drawn by hand", label: 11),
        // 12 digit 2
        HeldOutPrompt("handwritten number two", label: 12),
        HeldOutPrompt("a scribbled 2", label: 12),
        HeldOutPrompt("the digit 2 written by a child on paper", label: 12),
        // 13 digit 3
        HeldOutPrompt("a handwritten three", label: 13),
        HeldOutPrompt("the numeral 3 drawn in pencil", label: 13),
        HeldOutPrompt("number three in messy handwriting", label: 13),
        // 14 digit 4
        HeldOutPrompt("handwritten number four", label: 14),
        HeldOutPrompt("a hand drawn 4", label: 14),
        HeldOutPrompt("the digit four, written quickly by hand", label: 14),
        // 15 digit 5
        HeldOutPrompt("a handwritten five", label: 15),
        HeldOutPrompt("the numeral 5 scrawled in ink", label: 15),
        HeldOutPrompt("number 5 written by hand on a form", label: 15),
        // 16 digit 6
        HeldOutPrompt("handwritten number six", label: 16),
        HeldOutPrompt("a scribbled 6", label: 16),
        HeldOutPrompt("the digit six written in pen", label: 16),
        // 17 digit 7
        HeldOutPrompt("a handwritten seven", label: 17),
        HeldOutPrompt("the numeral 7 drawn by hand", label: 17),
        HeldOutPrompt("number seven in someone's handwriting", label: 17),
        // 18 digit 8
        HeldOutPrompt("handwritten number eight", label: 18),
        HeldOutPrompt("a hand-drawn 8", label: 18),
        HeldOutPrompt("the digit eight written in pencil", label: 18),
        // 19 digit 9
        HeldOutPrompt("a handwritten nine", label: 19),
        HeldOutPrompt("the numeral 9 scribbled in pen", label: 19),
        HeldOutPrompt("number nine written by hand", label: 19),
    ]
}
