/// What the `described` caption vocabulary says about a fashion item besides
/// its name: its parts, what it is made of and what it is for, and the
/// broader words ("a garment", "footwear") that such a detail can follow.
///
/// People describe clothes this way ("a parka with a hood", "shoes for the
/// beach", "a garment with long sleeves and a collar"), so a τ trained only
/// on names and definitions has to guess what such a phrase means. The
/// details are written from what each garment has, not from any prompt:
/// several are shared between classes (long sleeves: pullover, coat, shirt),
/// so that a caption made of a broad word and a shared detail stays as
/// ambiguous as it is in English and τ learns a mixture for it.
enum CaptionDetails {
    /// Parts ("with …"), by fashion label 0–9.
    static let parts: [[String]] = [
        ["short sleeves", "a round neck", "a crew neck", "a v-neck", "no collar", "a printed logo",
         "a print on the front", "stripes", "no buttons"],
        ["two legs", "long legs", "straight legs", "a waistband", "belt loops", "side pockets",
         "a zip fly", "a crease down the front", "turn-ups"],
        ["long sleeves", "a ribbed collar", "ribbed cuffs", "a cable pattern", "a roll neck",
         "a hood", "no buttons", "a high neck"],
        ["a skirt", "a flared skirt", "a long skirt", "a fitted bodice", "thin straps", "no sleeves",
         "a belt at the waist", "a floral print", "a low neckline"],
        ["long sleeves", "a row of buttons", "a zip", "a hood", "a belt", "wide lapels",
         "deep pockets", "a fur collar", "a double row of buttons"],
        ["straps", "thin straps", "an open toe", "a buckle", "a toe post", "a flat sole",
         "a cork sole", "a low heel", "crossed straps"],
        ["a collar", "buttons", "a button front", "buttoned cuffs", "a breast pocket", "long sleeves",
         "a pointed collar", "a checked pattern", "short sleeves and a collar"],
        ["laces", "a rubber sole", "a thick sole", "a padded collar", "a logo on the side",
         "mesh panels", "velcro straps", "a white sole"],
        ["a handle", "two handles", "a shoulder strap", "a long strap", "a zip", "a clasp",
         "a flap", "outside pockets", "a chain strap"],
        ["a heel", "a block heel", "a side zip", "laces", "elastic sides", "a thick sole",
         "a pointed toe", "a high shaft"],
    ]

    /// Materials ("made of …"), by fashion label 0–9.
    static let materials: [[String]] = [
        ["cotton", "jersey", "thin cotton"],
        ["denim", "wool", "corduroy", "cotton twill"],
        ["wool", "knitted wool", "cashmere", "thick yarn"],
        ["silk", "chiffon", "lace", "light cotton"],
        ["wool", "heavy wool", "leather", "waterproof fabric", "tweed"],
        ["leather", "rubber", "cork and leather"],
        ["cotton", "linen", "flannel", "poplin"],
        ["canvas", "mesh", "leather and rubber"],
        ["leather", "canvas", "nylon", "straw"],
        ["leather", "suede", "waxed leather"],
    ]

    /// Uses ("for …"), by fashion label 0–9.
    static let uses: [[String]] = [
        ["summer", "casual wear", "the gym", "hot days", "sleeping in"],
        ["work", "the office", "casual wear", "hiking", "formal occasions"],
        ["cold weather", "winter", "chilly evenings", "keeping warm indoors"],
        ["a party", "a wedding", "summer", "the evening", "a night out"],
        ["winter", "cold weather", "the rain", "the snow", "wearing outdoors", "wearing over a suit"],
        ["the beach", "summer", "hot weather", "the poolside"],
        ["the office", "work", "a meeting", "wearing with a tie", "formal occasions"],
        ["running", "sport", "tennis", "the gym", "walking"],
        ["shopping", "carrying things", "school", "travel", "the office"],
        ["autumn", "winter", "walking", "rainy days"],
    ]

    /// Broader names that a caption uses only with a detail, by fashion label 0–9.
    static let broaderNames: [[CaptionGenerator.Noun]] = {
        let garment = [CaptionGenerator.Noun("a", "garment"), CaptionGenerator.Noun("a", "piece of clothing"),
                       CaptionGenerator.Noun("an", "item of clothing"), CaptionGenerator.Noun("", "clothing")]
        let footwear = [CaptionGenerator.Noun("", "footwear"), CaptionGenerator.Noun("a", "shoe"),
                        CaptionGenerator.Noun("a pair of", "shoes")]
        return [
            garment + [CaptionGenerator.Noun("a", "top")],
            garment,
            garment + [CaptionGenerator.Noun("a", "top")],
            garment + [CaptionGenerator.Noun("a", "woman's garment")],
            garment + [CaptionGenerator.Noun("an", "outer garment"), CaptionGenerator.Noun("", "outerwear")],
            footwear,
            garment + [CaptionGenerator.Noun("a", "top")],
            footwear,
            [CaptionGenerator.Noun("a", "container"), CaptionGenerator.Noun("an", "accessory"),
             CaptionGenerator.Noun("a", "carrier")],
            footwear,
        ]
    }()

    /// Every detail of fashion class `label` as it follows the noun phrase:
    /// "with" its parts, "made of" its materials, "for" its uses.
    static func details(class label: Int) -> [String] {
        parts[label].map { "with " + $0 } + materials[label].map { "made of " + $0 } + uses[label].map { "for " + $0 }
    }
}
