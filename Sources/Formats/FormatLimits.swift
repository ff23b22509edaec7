import Foundation

/// Upper bounds that every reader checks *before* it allocates or loops over
/// what a file claims, so that a small crafted file cannot ask for gigabytes
/// or nest objects until the stack overflows.
///
/// The defaults are far above every file this package is meant to read
/// (MPNet's 438 MB safetensors holds 110 M elements, its largest tensor
/// 23 M; Fashion-MNIST's training images are 47 MB inflated). A reader that
/// meets a larger value throws `FormatError.limitExceeded`, whose message
/// names the limit and the environment variable that raises it.
///
/// Every reader takes a `limits:` argument that defaults to
/// `FormatLimits.fromEnvironment()`: the defaults, each replaced by its
/// `NET2NET_MAX_…` variable when that is set to a positive integer
/// (`NET2NET_MAX_TENSOR_ELEMENTS=4000000000 net2net inspect big.pth`).
/// A Swift caller can instead pass a value it built itself.
public struct FormatLimits: Sendable, Equatable {
    /// Elements of one tensor, array or image (after strides and zero
    /// strides are expanded). Default 2³⁰ (4 GiB as Float32).
    public var tensorElements: Int
    /// Elements of all tensors of one file together. Default 2³² (16 GiB as Float32).
    public var fileElements: Int
    /// Pixels (width × height) of one image, checked on the PNG header
    /// before anything is decoded. Default 100 M (10000 × 10000).
    public var imagePixels: Int
    /// Objects on a pickle's stack (and open MARKs). Default 1 M.
    public var pickleStack: Int
    /// Entries in a pickle's memo. Default 1 M.
    public var pickleMemo: Int
    /// Nesting depth of pickled lists, tuples and dicts. Default 100
    /// (a PyTorch state dict nests 2 to 6 deep).
    public var pickleDepth: Int
    /// Objects a pickle may unfold to once shared references are copied
    /// (each `BINGET` of a list is a full copy). Default 10 M.
    public var pickleObjects: Int
    /// Bytes of a safetensors JSON header. Default 100 MB, the limit of the
    /// reference implementation.
    public var safeTensorsHeaderBytes: Int
    /// Bytes of a `.npy` header dictionary. Default 1 MiB (NumPy itself
    /// reads at most 10 000 bytes unless told otherwise).
    public var npyHeaderBytes: Int
    /// Bytes a gzip stream or a zip entry may inflate to. Default 4 GiB.
    public var inflatedBytes: Int
    /// Inflated bytes per compressed byte, checked once more than 1 MiB has
    /// been inflated. Default 1000 (deflate cannot exceed about 1032, which
    /// only long runs of one byte reach).
    public var compressionRatio: Int
    /// Bytes of CSV text (after gzip). Default 1 GiB (MNIST-5k is 10 MB).
    public var csvBytes: Int

    /// The documented defaults, ignoring the environment.
    public static let defaults = FormatLimits(
        tensorElements: 1 << 30, fileElements: 1 << 32, imagePixels: 100_000_000,
        pickleStack: 1 << 20, pickleMemo: 1 << 20, pickleDepth: 100, pickleObjects: 10_000_000,
        safeTensorsHeaderBytes: 100_000_000, npyHeaderBytes: 1 << 20,
        inflatedBytes: 1 << 32, compressionRatio: 1000, csvBytes: 1 << 30)

    public init(tensorElements: Int, fileElements: Int, imagePixels: Int,
                pickleStack: Int, pickleMemo: Int, pickleDepth: Int, pickleObjects: Int,
                safeTensorsHeaderBytes: Int, npyHeaderBytes: Int,
                inflatedBytes: Int, compressionRatio: Int, csvBytes: Int) {
        self.tensorElements = tensorElements
        self.fileElements = fileElements
        self.imagePixels = imagePixels
        self.pickleStack = pickleStack
        self.pickleMemo = pickleMemo
        self.pickleDepth = pickleDepth
        self.pickleObjects = pickleObjects
        self.safeTensorsHeaderBytes = safeTensorsHeaderBytes
        self.npyHeaderBytes = npyHeaderBytes
        self.inflatedBytes = inflatedBytes
        self.compressionRatio = compressionRatio
        self.csvBytes = csvBytes
    }

    /// The name of one limit: its property, its environment variable and
    /// what it counts (for messages).
    public enum Name: String, CaseIterable, Sendable {
        case tensorElements, fileElements, imagePixels
        case pickleStack, pickleMemo, pickleDepth, pickleObjects
        case safeTensorsHeaderBytes, npyHeaderBytes, inflatedBytes, compressionRatio, csvBytes

        /// `NET2NET_MAX_TENSOR_ELEMENTS` for `tensorElements`, and so on.
        public var environmentVariable: String {
            var name = "NET2NET_MAX"
            var word = ""
            for character in rawValue {
                if character.isUppercase { name += "_" + word.uppercased(); word = "" }
                word.append(character)
            }
            return (name + "_" + word.uppercased()).replacingOccurrences(of: "SAFE_TENSORS", with: "SAFETENSORS")
        }

        /// The property holding this limit.
        var keyPath: WritableKeyPath<FormatLimits, Int> {
            switch self {
            case .tensorElements: return \.tensorElements
            case .fileElements: return \.fileElements
            case .imagePixels: return \.imagePixels
            case .pickleStack: return \.pickleStack
            case .pickleMemo: return \.pickleMemo
            case .pickleDepth: return \.pickleDepth
            case .pickleObjects: return \.pickleObjects
            case .safeTensorsHeaderBytes: return \.safeTensorsHeaderBytes
            case .npyHeaderBytes: return \.npyHeaderBytes
            case .inflatedBytes: return \.inflatedBytes
            case .compressionRatio: return \.compressionRatio
            case .csvBytes: return \.csvBytes
            }
        }

        /// What the limit counts, for messages.
        public var subject: String {
            switch self {
            case .tensorElements: return "elements per tensor"
            case .fileElements: return "tensor elements per file"
            case .imagePixels: return "image pixels"
            case .pickleStack: return "pickle stack entries"
            case .pickleMemo: return "pickle memo entries"
            case .pickleDepth: return "pickle nesting depth"
            case .pickleObjects: return "unfolded pickle objects"
            case .safeTensorsHeaderBytes: return "safetensors header bytes"
            case .npyHeaderBytes: return ".npy header bytes"
            case .inflatedBytes: return "inflated bytes"
            case .compressionRatio: return "compression ratio"
            case .csvBytes: return "CSV bytes"
            }
        }
    }

    /// The value of one limit.
    public subscript(name: Name) -> Int {
        get { self[keyPath: name.keyPath] }
        set { self[keyPath: name.keyPath] = newValue }
    }

    /// The defaults, each overridden by its `NET2NET_MAX_…` variable in
    /// `environment` when that holds a positive integer (other values are ignored).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> FormatLimits {
        var limits = defaults
        for name in Name.allCases {
            if let text = environment[name.environmentVariable], let value = Int(text), value > 0 {
                limits[name] = value
            }
        }
        return limits
    }

    /// Throws `limitExceeded` when `value` is above limit `name`; `what`
    /// says what was counted (`"tensor 'w' (100000×100000)"`).
    func check(_ name: Name, _ value: Int, path: String, what: String) throws {
        guard value > self[name] else { return }
        throw FormatError.limitExceeded(path: path, limit: name, value: value, maximum: self[name], what: what)
    }
}

/// Sizes from files, multiplied and added without overflow: every product
/// or sum of untrusted extents, strides, offsets and element sizes in this
/// module goes through these, so a wrapped value can never pass a bounds check.
enum CheckedSize {
    /// `a × b`, or nil when either is negative or the product overflows `Int`.
    static func product(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : result
    }

    /// `a + b`, or nil when either is negative or the sum overflows `Int`.
    static func sum(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : result
    }

    /// `elementSize × Π shape`, or nil when an extent is negative or it overflows.
    static func byteCount(_ shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for extent in shape {
            guard let next = product(total, extent) else { return nil }
            total = next
        }
        return total
    }
}
