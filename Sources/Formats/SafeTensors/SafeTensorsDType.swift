/// The element types named in safetensors headers, with their sizes and the
/// conversions to Float this package performs.
enum SafeTensorsDType: String, CaseIterable {
    case F64, F32, F16, BF16
    case I64, I32, I16, I8
    case U64, U32, U16, U8
    case BOOL
    case F8_E4M3, F8_E5M2

    var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: return 1
        }
    }

    /// Types `SafeTensorsFile.tensor(_:)` converts to Float.
    static let floatTypes: [SafeTensorsDType] = [.F32, .F16, .BF16, .F64]
    /// Types `SafeTensorsFile.int64(_:)` reads.
    static let integerTypes: [SafeTensorsDType] = [.I64, .I32]
}

/// IEEE 754 binary16 → Float, exactly (every half is a float).
///
/// bits: sign(1) exponent(5, bias 15) fraction(10); exponent 0 is zero or
/// subnormal (fraction · 2⁻²⁴), exponent 31 is Inf or NaN.
@inline(__always)
func floatFromHalf(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let fraction = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:
        let magnitude = Float(fraction) * 0x1p-24
        return Float(bitPattern: sign | magnitude.bitPattern)
    case 31:
        return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
    default:
        return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | fraction << 13)
    }
}

/// bfloat16 → Float, exactly: bfloat16 is the top half of a float32.
@inline(__always)
func floatFromBFloat16(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}
