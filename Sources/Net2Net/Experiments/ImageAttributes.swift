import Datasets
import Experts
import Foundation
import TensorCore

/// A measurable property of a gray image, the basis of one pair of adjectives.
public enum ImageProperty: String, Codable, CaseIterable, Sendable {
    /// Mean value of the ink pixels: dark … light.
    case brightness
    /// Bounding-box width ÷ height of the ink: narrow … wide.
    case width
    /// Mean |difference| of adjacent ink pixels: plain … patterned.
    case texture
    /// Fraction of the image that is ink: small … large.
    case size

    /// The adjective of the lowest third of a class, and of the highest third.
    public var adjectives: (low: ImageAdjective, high: ImageAdjective) {
        switch self {
        case .brightness: return (.dark, .light)
        case .width: return (.narrow, .wide)
        case .texture: return (.plain, .patterned)
        case .size: return (.small, .large)
        }
    }
}

/// An adjective that a caption may use for an image, one of two per property.
public enum ImageAdjective: String, Codable, CaseIterable, Sendable {
    case dark, light, narrow, wide, plain, patterned, small, large

    /// The property this adjective describes.
    public var property: ImageProperty {
        switch self {
        case .dark, .light: return .brightness
        case .narrow, .wide: return .width
        case .plain, .patterned: return .texture
        case .small, .large: return .size
        }
    }
}

/// The four properties of one image, as `ImageAttributes.measure` computes them.
public struct ImageMeasurements: Equatable, Sendable {
    public var brightness: Float
    public var width: Float
    public var texture: Float
    public var size: Float

    public init(brightness: Float, width: Float, texture: Float, size: Float) {
        self.brightness = brightness
        self.width = width
        self.texture = texture
        self.size = size
    }

    public subscript(property: ImageProperty) -> Float {
        switch property {
        case .brightness: return brightness
        case .width: return width
        case .texture: return texture
        case .size: return size
        }
    }
}

/// Per-class tercile thresholds of measurable image properties, and the
/// adjectives they give an image.
///
/// An image `[1, H, W]` in [-1, 1] (background −1) has *ink* where
/// x > `inkThreshold` (−0.5). With I the set of ink pixels:
///
///     brightness = mean_{p ∈ I} x_p                                 (−1 if I = ∅)
///     width      = (cols spanned by I) ÷ (rows spanned by I)       (1 if I = ∅)
///     texture    = mean |x_p − x_q| over horizontally or vertically
///                  adjacent pairs p, q that are both in I            (0 if none)
///     size       = |I| ÷ (H·W)
///
/// Fitting sorts each property within each class (n values) and cuts the
/// sorted list twice, each time between two different values, halfway
/// between them: `lower` at the cut with k values below it, k closest to n/3,
/// `upper` at the cut (not before `lower`) closest to 2n/3. An image whose
/// value is below `lower` gets the property's low adjective (dark, narrow,
/// plain, small), above `upper` its high adjective (light, wide, patterned,
/// large), and none in the middle, so each adjective covers about a third of
/// its class: exactly ⌊n/3⌉ when the values are distinct; equal values are
/// never split, so ties (common for width, a ratio of pixel counts) make the
/// thirds uneven, and a constant property gets no adjective. Texture is measured inside the
/// ink only: a pattern of ink and background (say a checkerboard of ±1) has
/// no adjacent ink pairs and reads as plain.
///
/// Thresholds are `Codable` so that a recipe can store them with its data.
public struct ImageAttributes: Codable, Equatable, Sendable {
    /// Pixels above this value are ink.
    public static let inkThreshold: Float = -0.5
    /// Classes with fewer training images than this get no thresholds.
    public static let minimumClassCount = 3

    /// The boundaries between the thirds of one property within one class.
    public struct Terciles: Codable, Equatable, Sendable {
        public var lower: Float
        public var upper: Float
        public init(lower: Float, upper: Float) { self.lower = lower; self.upper = upper }
    }

    /// The thresholds of one class.
    public struct ClassThresholds: Codable, Equatable, Sendable {
        /// The class label (the 20-class scheme when fitted on an `ImageDataset`).
        public var label: Int
        /// Training images of the class.
        public var count: Int
        public var brightness: Terciles
        public var width: Terciles
        public var texture: Terciles
        public var size: Terciles

        public subscript(property: ImageProperty) -> Terciles {
            switch property {
            case .brightness: return brightness
            case .width: return width
            case .texture: return texture
            case .size: return size
            }
        }
    }

    /// One entry per fitted class, in increasing label order.
    public var classes: [ClassThresholds]

    public init(classes: [ClassThresholds]) {
        self.classes = classes.sorted { $0.label < $1.label }
    }

    /// Fits thresholds to the images of each label. `images` is `[N, 1, H, W]`.
    public init(fitting images: Tensor, labels: [Int]) {
        let measured = ImageAttributes.measure(images)
        precondition(labels.count == measured.count, "one label per image")
        var byClass: [Int: [ImageMeasurements]] = [:]
        for (label, m) in zip(labels, measured) { byClass[label, default: []].append(m) }
        var classes: [ClassThresholds] = []
        for (label, values) in byClass where values.count >= ImageAttributes.minimumClassCount {
            func terciles(_ property: ImageProperty) -> Terciles {
                let sorted = values.map { $0[property] }.sorted()
                let n = sorted.count
                // Cuts k (k values below) only between distinct values, so ties stay together.
                let cuts = (1..<n).filter { sorted[$0 - 1] < sorted[$0] }
                guard let k1 = cuts.min(by: { abs(3 * $0 - n) < abs(3 * $1 - n) }) else {
                    return Terciles(lower: sorted[0], upper: sorted[0])
                }
                let k2 = cuts.filter { $0 >= k1 }.min { abs(3 * $0 - 2 * n) < abs(3 * $1 - 2 * n) }!
                func boundary(_ k: Int) -> Float { (sorted[k - 1] + sorted[k]) / 2 }
                return Terciles(lower: boundary(k1), upper: boundary(k2))
            }
            classes.append(ClassThresholds(label: label, count: values.count,
                                           brightness: terciles(.brightness), width: terciles(.width),
                                           texture: terciles(.texture), size: terciles(.size)))
        }
        self.init(classes: classes)
    }

    /// Fits thresholds to a data set, by its 20-class labels (`EvaluationClassifier.labels(of:)`).
    public init(fitting data: ImageDataset) {
        self.init(fitting: data.images, labels: EvaluationClassifier.labels(of: data))
    }

    /// The thresholds of `label`, if it was fitted.
    public func thresholds(of label: Int) -> ClassThresholds? {
        classes.first { $0.label == label }
    }

    /// The adjectives of an image of class `label` with measurements `m`, in
    /// property order (brightness, width, texture, size); none for an unfitted class.
    public func adjectives(for m: ImageMeasurements, label: Int) -> [ImageAdjective] {
        guard let t = thresholds(of: label) else { return [] }
        return ImageProperty.allCases.compactMap { property in
            let value = m[property], bounds = t[property]
            if value < bounds.lower { return property.adjectives.low }
            if value > bounds.upper { return property.adjectives.high }
            return nil
        }
    }

    /// The adjectives of every image `[N, 1, H, W]` with its label.
    public func adjectives(of images: Tensor, labels: [Int]) -> [[ImageAdjective]] {
        let measured = ImageAttributes.measure(images)
        precondition(labels.count == measured.count, "one label per image")
        return zip(measured, labels).map { adjectives(for: $0, label: $1) }
    }

    /// The adjectives of every image of a data set, by its 20-class labels.
    public func adjectives(of data: ImageDataset) -> [[ImageAdjective]] {
        adjectives(of: data.images, labels: EvaluationClassifier.labels(of: data))
    }

    /// The measurements of every image of `images` `[N, 1, H, W]`.
    public static func measure(_ images: Tensor) -> [ImageMeasurements] {
        precondition(images.rank == 4 && images.shape[1] == 1, "images must be [N, 1, H, W], got \(images.shape)")
        let N = images.shape[0], H = images.shape[2], W = images.shape[3]
        return images.withUnsafeBufferPointer { x in
            (0..<N).map { n in measure(UnsafeBufferPointer(rebasing: x[(n * H * W)..<((n + 1) * H * W)]), height: H, width: W) }
        }
    }

    /// The measurements of one image, row-major `[H, W]`.
    public static func measure(_ x: UnsafeBufferPointer<Float>, height H: Int, width W: Int) -> ImageMeasurements {
        precondition(x.count == H * W, "an image of \(H)×\(W) needs \(H * W) values")
        let t = inkThreshold
        var inkCount = 0, inkSum: Double = 0
        var top = H, bottom = -1, left = W, right = -1
        var differenceSum: Double = 0, pairs = 0
        for r in 0..<H {
            for c in 0..<W {
                let v = x[r * W + c]
                guard v > t else { continue }
                inkCount += 1
                inkSum += Double(v)
                top = min(top, r); bottom = max(bottom, r); left = min(left, c); right = max(right, c)
                if c + 1 < W, x[r * W + c + 1] > t { differenceSum += Double(abs(v - x[r * W + c + 1])); pairs += 1 }
                if r + 1 < H, x[(r + 1) * W + c] > t { differenceSum += Double(abs(v - x[(r + 1) * W + c])); pairs += 1 }
            }
        }
        guard inkCount > 0 else { return ImageMeasurements(brightness: -1, width: 1, texture: 0, size: 0) }
        return ImageMeasurements(brightness: Float(inkSum / Double(inkCount)),
                                 width: Float(right - left + 1) / Float(bottom - top + 1),
                                 texture: pairs > 0 ? Float(differenceSum / Double(pairs)) : 0,
                                 size: Float(inkCount) / Float(H * W))
    }
}
