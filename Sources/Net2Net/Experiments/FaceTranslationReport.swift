import Foundation

/// What `net2net eval-experiment` reports for GAN translation, with keys of
/// its own: the classes, data set and FID-F of the other experiments do not
/// exist here, so no key of `ExperimentReport` is reused with another meaning.
///
/// Measured on DCGAN faces (`ExperimentEvaluation.runFaceTranslation`):
/// held-out pairs are freshly sampled (z ~ N(0, I), the face, its features);
/// queries are held-out faces used three ways (`face_queries`).
public struct FaceTranslationReport: Codable, Sendable, Equatable {
    public var experiment: String
    /// Held-out negative log-likelihood of z given Φ(DCGAN(z)), nats per
    /// dimension, on `held_out_pairs` fresh pairs.
    public var heldOutNatsPerDim: Double
    public var heldOutPairs: Int
    /// The same pairs' NLL under the prior N(0, I): what τ must beat by using the condition.
    public var priorNatsPerDim: Double
    /// prior − held-out NLL (nats/dim): how much the condition tells τ (positive when it helps).
    public var gainOverPriorNatsPerDim: Double
    /// Fraction of face queries whose τ face is nearer the query in
    /// EfficientNet features (cosine) than a random DCGAN face.
    public var faceQueriesNearerThanRandom: Double
    /// Fréchet distance on EfficientNet features between τ's faces for the face
    /// queries and the query faces, and the same for random DCGAN faces (the floor).
    public var fidEfficientNet: Double
    public var randomFacesFIDEfficientNet: Double
    /// Mean pairwise RMS pixel distance of the faces sampled for one query
    /// (`samples_per_query` each), beside random DCGAN faces'.
    public var diversity: Double
    public var randomFacesDiversity: Double
    public var samplesPerQuery: Int
    /// Φ-similarity of τ's faces to each kind of query.
    public var faceQueries: [FaceQueryReport]

    enum CodingKeys: String, CodingKey {
        case experiment, heldOutNatsPerDim = "held_out_nats_per_dim", heldOutPairs = "held_out_pairs"
        case priorNatsPerDim = "prior_nats_per_dim", gainOverPriorNatsPerDim = "gain_over_prior_nats_per_dim"
        case faceQueriesNearerThanRandom = "face_queries_nearer_than_random"
        case fidEfficientNet = "fid_efficientnet", randomFacesFIDEfficientNet = "random_faces_fid_efficientnet"
        case diversity, randomFacesDiversity = "random_faces_diversity", samplesPerQuery = "samples_per_query"
        case faceQueries = "face_queries"
    }
}

