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
}
