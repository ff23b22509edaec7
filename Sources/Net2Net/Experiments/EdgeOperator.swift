/// How edges-to-image turns an image into its query (recipe key `edges`).
public enum EdgeOperator: String, CaseIterable, Codable, Sendable {
    /// Sobel gradient magnitude, normalised per image (`ImageOperators.sobelEdges`).
    case sobel
    /// HED's learned edge probabilities p as images 2p − 1 (`HEDEdgeDetector.edgeImages`).
    case hed
}
