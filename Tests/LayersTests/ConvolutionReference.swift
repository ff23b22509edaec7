import Foundation
import XCTest
import TestSupport
import Layers

/// Naive, obviously-correct convolutions in Double for the convolution tests.
enum Reference {
    /// PyTorch `conv2d`: x `[N, Cin, H, W]`, w `[Cout, Cin/g, kH, kW]` → `[N, Cout, Ho, Wo]`.
    static func conv2d(_ x: [Float], batch N: Int, height H: Int, width W: Int, layer: Conv2d,
                       weight w: [Float], bias: [Float]?) -> [Double] {
        let Cin = layer.inputChannels, Cout = layer.outputChannels, g = layer.groups
        let kH = layer.kernelHeight, kW = layer.kernelWidth, s = layer.stride, pad = layer.padding
        let Ho = (H + pad.top + pad.bottom - kH) / s + 1, Wo = (W + pad.left + pad.right - kW) / s + 1
        let Cg = Cin / g, Og = Cout / g
        var y = [Double](repeating: 0, count: N * Cout * Ho * Wo)
        for n in 0..<N {
            for o in 0..<Cout {
                for i in 0..<Ho {
                    for j in 0..<Wo {
                        var sum = Double(bias?[o] ?? 0)
                        for c in 0..<Cg {
                            let ci = (o / Og) * Cg + c
                            for u in 0..<kH {
                                for v in 0..<kW {
                                    let r = i * s - pad.top + u, q = j * s - pad.left + v
                                    if r < 0 || r >= H || q < 0 || q >= W { continue }
                                    sum += Double(x[((n * Cin + ci) * H + r) * W + q])
                                        * Double(w[((o * Cg + c) * kH + u) * kW + v])
                                }
                            }
                        }
                        y[((n * Cout + o) * Ho + i) * Wo + j] = sum
                    }
                }
            }
        }
        return y
    }

    /// PyTorch `conv_transpose2d`: x `[N, Cin, H, W]`, w `[Cin, Cout, kH, kW]` → `[N, Cout, Ho, Wo]`.
    static func convTranspose2d(_ x: [Float], batch N: Int, height H: Int, width W: Int, layer: ConvTranspose2d,
                                weight w: [Float], bias: [Float]?) -> [Double] {
        let Cin = layer.inputChannels, Cout = layer.outputChannels
        let kH = layer.kernelHeight, kW = layer.kernelWidth, s = layer.stride, p = layer.padding
        let (Ho, Wo) = layer.outputSize(height: H, width: W)
        var y = [Double](repeating: 0, count: N * Cout * Ho * Wo)
        for n in 0..<N {
            for o in 0..<Cout {
                for k in 0..<(Ho * Wo) { y[(n * Cout + o) * Ho * Wo + k] = Double(bias?[o] ?? 0) }
            }
            for c in 0..<Cin {
                for i in 0..<H {
                    for j in 0..<W {
                        let xv = Double(x[((n * Cin + c) * H + i) * W + j])
                        for o in 0..<Cout {
                            for u in 0..<kH {
                                for v in 0..<kW {
                                    let r = i * s - p + u, q = j * s - p + v
                                    if r < 0 || r >= Ho || q < 0 || q >= Wo { continue }
                                    y[((n * Cout + o) * Ho + r) * Wo + q] += xv * Double(w[((c * Cout + o) * kH + u) * kW + v])
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `act(scale[c]·y + shift[c] + residual)` on `[N, C, P]`.
    static func epilogue(_ y: [Double], channels C: Int, plane P: Int, scale: [Float]?, shift: [Float]?,
                         residual: [Float]?, activation: ConvolutionActivation) -> [Double] {
        y.indices.map { k in
            let c = (k / P) % C
            var v = y[k] * Double(scale?[c] ?? 1) + Double(shift?[c] ?? 0) + Double(residual?[k] ?? 0)
            switch activation {
            case .none: break
            case .relu: v = max(v, 0)
            case .relu6: v = min(max(v, 0), 6)
            case .tanh: v = Foundation.tanh(v)
            }
            return v
        }
    }
}

/// Every |actual − expected| ≤ relative·|expected| + absolute; reports the worst element only.
func assertAllNear(_ actual: [Float], _ expected: [Double], relative: Double = 1e-4, absolute: Double = 1e-4,
                   _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what()): element count", file: file, line: line)
    var worst = -1, worstExcess = 0.0
    for k in 0..<min(actual.count, expected.count) {
        let excess = abs(Double(actual[k]) - expected[k]) - (relative * abs(expected[k]) + absolute)
        if excess > worstExcess || !actual[k].isFinite { worst = k; worstExcess = excess; if !actual[k].isFinite { break } }
    }
    if worst >= 0 {
        XCTFail("\(what()): element \(worst) is \(actual[worst]), expected \(expected[worst])", file: file, line: line)
    }
}
