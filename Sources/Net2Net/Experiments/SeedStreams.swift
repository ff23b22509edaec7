/// Offsets that derive separate random streams from one user seed, so that
/// two draws made from the same `--seed` (say, the flow's initialisation and
/// the subset of training images) are not the same numbers.
///
/// The values are arbitrary; each is a hex word that hints at its use.
/// Changing one changes every result drawn from that stream, so they are
/// part of what makes a seeded run reproducible.
public enum SeedStreams {
    /// The seeded subset of training images of a recipe (`train_images`): flow seed + 0x51CE ("slice").
    public static let trainingSubset: UInt64 = 0x51CE
    /// The seeded subset of test images (`eval-experiment --test-images`): seed + 0x7E57 ("test").
    public static let testSubset: UInt64 = 0x7E57
    /// The faces of GAN translation's sample grid after training (used as the seed itself): 0xF0CE ("face").
    public static let faceGrid: UInt64 = 0xF0CE
    /// GAN translation's freshly sampled held-out pairs: seed + 0xE7A1 ("eval").
    public static let heldOutFacePairs: UInt64 = 0xE7A1
    /// Text → BigGAN's freshly sampled held-out pairs: seed + 0xB16A ("biga").
    public static let heldOutBigGANPairs: UInt64 = 0xB16A
    /// The training / validation split of a pair data set: seed ⊕ 0x5EED_5B11 ("seed split").
    public static let validationSplit: UInt64 = 0x5EED_5B11
    /// The autoencoder's per-step noise (reparameterisation): seed ⊕ (0xA5A5_0000_0000 + step).
    public static let autoencoderNoise: UInt64 = 0xA5A5_0000_0000
    /// The classifier's per-step random shifts: seed ⊕ (0x5A5A_0000_0000 + step).
    public static let classifierAugmentation: UInt64 = 0x5A5A_0000_0000
}
