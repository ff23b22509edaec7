import CKernels
import Foundation
import XCTest
import TensorCore

/// Every kernel build the machine can run (AVX-512, AVX2 + FMA, baseline)
/// against the baseline build, bit for bit, and against plain scalar
/// formulas. The depthwise convolutions fuse multiply-adds where the CPU has
/// them, so they are compared with a tolerance instead.
///
/// On a CPU without AVX-512 the AVX-512 case runs the best build it has (and
/// says so), so the test still checks what this machine can check.
final class InstructionSetTests: XCTestCase {
    /// Lengths that exercise full vectors, tails and empty input.
    let lengths = [0, 1, 7, 15, 16, 17, 31, 33, 100, 4099]

    override func tearDown() {
        InstructionSet.select(.avx512)  // back to the best supported
    }

    func testTheChoiceFollowsTheCPU() {
        let supported = InstructionSet.supported
        XCTAssertEqual(InstructionSet.select(.avx512), supported)
        XCTAssertEqual(InstructionSet.select(.baseline), .baseline)
        XCTAssertEqual(InstructionSet.current, .baseline)
        XCTAssertEqual(InstructionSet.select(.avx2), min(.avx2, supported))
        let features = ProcessorInfo.features
        if features.contains("avx512f") && features.contains("avx512bw") && features.contains("avx512dq")
            && features.contains("avx512vl") {
            XCTAssertEqual(supported, .avx512)
        } else if features.contains("avx2") && features.contains("fma") {
            XCTAssertEqual(supported, .avx2)
        }
    }

    /// Runs `body` once per build and returns each result.
    func perBuild<T>(_ body: () -> T) -> [(InstructionSet, T)] {
        InstructionSet.allCases.map { set in
            let used = InstructionSet.select(set)
            return (used, body())
        }
    }

    func randomInput(_ count: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -scale...scale, using: &rng) }
    }

    func assertBitwiseEqual(_ results: [(InstructionSet, [Float])], _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let reference = results.first { $0.0 == .baseline }!.1
        for (set, values) in results {
            XCTAssertEqual(values.count, reference.count, "\(what) [\(set)]", file: file, line: line)
            let differing = zip(values, reference).filter { $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN) }
            XCTAssertTrue(differing.isEmpty, "\(what) [\(set)]: \(differing.count) values differ from the baseline build, e.g. \(differing.prefix(3))",
                          file: file, line: line)
        }
    }

    func testMapsAreBitIdenticalAcrossBuildsAndMatchScalarFormulas() {
        for n in lengths {
            let x = randomInput(n, seed: UInt64(n) + 1, scale: 12) + (n > 8 ? [0, -0.0, 90, -90, .nan, .infinity] : [])
            let dy = randomInput(x.count, seed: UInt64(n) + 99)
            let maps: [(String, (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, (Float) -> Double?)] = [
                ("exp", { n2n_exp($0, $1, $2) }, { Foundation.exp(Double($0)) }),
                ("tanh", { n2n_tanh($0, $1, $2) }, { Foundation.tanh(Double($0)) }),
                ("sigmoid", { n2n_sigmoid($0, $1, $2) }, { 1 / (1 + Foundation.exp(-Double($0))) }),
                ("erf", { n2n_erf($0, $1, $2) }, { Foundation.erf(Double($0)) }),
                ("gelu", { n2n_gelu($0, $1, $2) }, { 0.5 * Double($0) * (1 + Foundation.erf(Double($0) / 2.0.squareRoot())) }),
                ("leaky", { n2n_leaky_relu($0, $1, $2, 0.01) }, { $0 > 0 ? Double($0) : 0.01 * Double($0) }),
                ("relu6", { n2n_affine_activation($0, $1, $2, 1, 0, nil, N2N_ACT_RELU6) }, { min(max(Double($0), 0), 6) }),
                ("affine-tanh", { n2n_affine_activation($0, $1, $2, 0.5, -1, nil, N2N_ACT_TANH) },
                 { Foundation.tanh(0.5 * Double($0) - 1) }),
                ("tanh-backward", { x, y, n in dy.withUnsafeBufferPointer { n2n_tanh_backward(x, $0.baseAddress!, y, n) } },
                 { _ in nil }),
            ]
            for (name, kernel, truth) in maps {
                let results = perBuild { () -> [Float] in
                    var y = [Float](repeating: .nan, count: x.count)
                    x.withUnsafeBufferPointer { kernel($0.baseAddress!, &y, x.count) }
                    return y
                }
                assertBitwiseEqual(results, "\(name) n=\(n)")
                for (xi, yi) in zip(x, results[0].1) where xi.isFinite && abs(xi) < 80 {
                    guard let t = truth(xi) else { continue }
                    XCTAssertEqual(Double(yi), t, accuracy: 4e-7 * max(1, abs(t)), "\(name)(\(xi))")
                }
            }
        }
    }

    func testReductionsAreBitIdenticalAcrossBuilds() {
        for n in lengths {
            let x = randomInput(n, seed: UInt64(n) + 7), y = randomInput(n, seed: UInt64(n) + 8)
            let results = perBuild { () -> [Float] in
                [n2n_sum(x, n), Float(n2n_sum_of_squares(x, n)), n2n_dot(x, y, n),
                 n2n_sum_of_squared_deviations(x, n, 0.25), Float(n2n_all_finite(x, n))]
            }
            assertBitwiseEqual(results, "reductions n=\(n)")
            let sum = x.reduce(0.0) { $0 + Double($1) }
            let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(Double(results[0].1[0]), sum, accuracy: 1e-4 * Double(max(n, 1)))
            XCTAssertEqual(Double(results[0].1[2]), dot, accuracy: 1e-4 * Double(max(n, 1)))
            XCTAssertEqual(results[0].1[4], 1)
        }
        var poisoned = randomInput(100, seed: 3)
        poisoned[57] = .infinity
        for _ in perBuild({ () -> Int in XCTAssertEqual(n2n_all_finite(poisoned, 100), 0); return 0 }) {}
    }

    func testAdamIsBitIdenticalAcrossBuildsAndFollowsItsFormula() {
        for n in [1, 17, 4099, 8200] {
            let g = randomInput(n, seed: 11), p0 = randomInput(n, seed: 12)
            let m0 = randomInput(n, seed: 13, scale: 0.1), v0 = randomInput(n, seed: 14, scale: 0.1).map(abs)
            let vmax0 = v0.map { $0 * 1.5 }
            let results = perBuild { () -> [Float] in
                var p = p0, m = m0, v = v0, vmax = vmax0
                let total = n2n_adam(&p, g, &m, &v, &vmax, n, 0.5, 0.9, 1e-8, 1e-3, 1.3, 0.75, 1, 1)
                return p + m + v + vmax + [Float(total)]
            }
            assertBitwiseEqual(results, "adam n=\(n)")
            let out = results[0].1
            for i in Swift.stride(from: 0, to: n, by: max(1, n / 50)) {
                let grad = Double(g[i]) * 0.75
                let m = 0.5 * Double(m0[i]) + 0.5 * grad
                let v = 0.9 * Double(v0[i]) + 0.1 * grad * grad
                let vhat = max(Double(vmax0[i]), v)
                let p = Double(p0[i]) - 1e-3 * m / (vhat.squareRoot() * 1.3 + 1e-8)
                XCTAssertEqual(Double(out[i]), p, accuracy: 1e-5 * max(1, abs(p)))
                XCTAssertEqual(Double(out[n + i]), m, accuracy: 1e-6)
                XCTAssertEqual(Double(out[3 * n + i]), vhat, accuracy: 1e-6)
            }
            // Decoupled weight decay in the same pass: the updated parameters × decay, bit for bit,
            // and nothing else changed.
            let decayed = perBuild { () -> [Float] in
                var p = p0, m = m0, v = v0, vmax = vmax0
                let total = n2n_adam(&p, g, &m, &v, &vmax, n, 0.5, 0.9, 1e-8, 1e-3, 1.3, 0.75, 1, 0.993)
                return p + m + v + vmax + [Float(total)]
            }
            assertBitwiseEqual(decayed, "adam with decay n=\(n)")
            XCTAssertEqual(Array(decayed[0].1[..<n]), Array(out[..<n]).map { $0 * 0.993 })
            XCTAssertEqual(Array(decayed[0].1[n...]), Array(out[n...]))
        }
    }

    func testLayerNormIsBitIdenticalAcrossBuilds() {
        for width in [16, 24, 384] {
            let rows = 3
            let x = randomInput(rows * width, seed: 21), r = randomInput(rows * width, seed: 22)
            let gamma = randomInput(width, seed: 23), beta = randomInput(width, seed: 24)
            let results = perBuild { () -> [Float] in
                var y = [Float](repeating: 0, count: rows * width)
                n2n_layer_norm(x, r, gamma, beta, 1e-12, rows, width, &y)
                return y
            }
            assertBitwiseEqual(results, "layer norm width \(width)")
            for row in 0..<rows {
                let z = (0..<width).map { Double(x[row * width + $0]) + Double(r[row * width + $0]) }
                let mean = z.reduce(0, +) / Double(width)
                let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
                for c in 0..<width {
                    let truth = (z[c] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[c]) + Double(beta[c])
                    XCTAssertEqual(Double(results[0].1[row * width + c]), truth, accuracy: 1e-5 * max(1, abs(truth)))
                }
            }
        }
    }

    func testDepthwiseRowsAgreeAcrossBuildsAndWithADirectSum() {
        for (kernel, stride, count) in [(3, 1, 37), (5, 2, 19), (3, 3, 9), (5, 1, 16)] {
            let rowLength = ((count + 15) / 16 * 16 - 1) * stride + kernel + 32
            let source = randomInput(kernel * rowLength, seed: UInt64(kernel * 10 + stride))
            let filter = randomInput(kernel * kernel, seed: 5)
            let results = perBuild { () -> [Float] in
                var out = [Float](repeating: 0, count: count)
                n2n_depthwise_row(source, rowLength, filter, kernel, kernel, stride, count, &out)
                return out
            }
            for j in 0..<count {
                var truth = 0.0
                for u in 0..<kernel {
                    for v in 0..<kernel { truth += Double(filter[u * kernel + v]) * Double(source[u * rowLength + j * stride + v]) }
                }
                for (set, out) in results {
                    XCTAssertEqual(Double(out[j]), truth, accuracy: 1e-5, "k\(kernel) s\(stride) j=\(j) [\(set)]")
                }
            }
        }
    }

    func testDepthwiseChannelsLastAgreesWithADirectSum() {
        let (H, W, C, k, s, top, left) = (7, 9, 37, 3, 2, 0, 1)
        let wo = (W + left + 1 - k) / s + 1, ho = (H + top + 1 - k) / s + 1
        let x = randomInput(H * W * C, seed: 31), weight = randomInput(k * k * C, seed: 32)
        let scale = randomInput(C, seed: 33), shift = randomInput(C, seed: 34), residual = randomInput(wo * C, seed: 35)
        for i in 0..<ho {
            let results = perBuild { () -> [Float] in
                var out = [Float](repeating: 0, count: wo * C)
                n2n_depthwise_row_nhwc(x, H, W, C, weight, k, k, s, top, left, i, wo, scale, shift, residual, N2N_ACT_RELU6, &out)
                return out
            }
            for j in 0..<wo {
                for c in 0..<C {
                    var sum = 0.0
                    for u in 0..<k {
                        for v in 0..<k {
                            let r = i * s - top + u, q = j * s - left + v
                            guard r >= 0, r < H, q >= 0, q < W else { continue }
                            sum += Double(x[(r * W + q) * C + c]) * Double(weight[(u * k + v) * C + c])
                        }
                    }
                    let truth = min(max(sum * Double(scale[c]) + Double(shift[c]) + Double(residual[j * C + c]), 0), 6)
                    for (set, out) in results {
                        XCTAssertEqual(Double(out[j * C + c]), truth, accuracy: 1e-5, "row \(i) j \(j) c \(c) [\(set)]")
                    }
                }
            }
        }
    }

    /// The 4×4/2 col2im with its epilogue against a direct sum over the taps.
    func testFourByFourStrideTwoCol2imAgreesAcrossBuildsAndWithADirectSum() {
        for (H, Wd) in [(1, 1), (1, 3), (4, 4), (3, 5), (8, 8), (2, 17), (3, 16), (2, 32)] {
            let rowStride = H * Wd + 5  // other images' columns sit between the taps
            let columns = randomInput(16 * rowStride, seed: UInt64(H * 100 + Wd))
            let (s, t): (Float, Float) = (0.75, -0.25)
            let results = perBuild { () -> [Float] in
                var out = [Float](repeating: .nan, count: 4 * H * Wd)
                n2n_col2im_k4s2(columns, rowStride, H, Wd, s, t, N2N_ACT_TANH, &out)
                return out
            }
            assertBitwiseEqual(results, "col2im k4 s2 \(H)×\(Wd)")
            for y in 0..<(2 * H) {
                for x in 0..<(2 * Wd) {
                    var sum = 0.0
                    for u in 0..<4 {
                        for v in 0..<4 {
                            let (i2, j2) = (y + 1 - u, x + 1 - v)
                            guard i2 % 2 == 0, j2 % 2 == 0, i2 >= 0, j2 >= 0, i2 / 2 < H, j2 / 2 < Wd else { continue }
                            sum += Double(columns[(u * 4 + v) * rowStride + i2 / 2 * Wd + j2 / 2])
                        }
                    }
                    let truth = tanh(sum * Double(s) + Double(t))
                    XCTAssertEqual(Double(results[0].1[y * 2 * Wd + x]), truth, accuracy: 1e-5, "\(H)×\(Wd) at \(y), \(x)")
                }
            }
        }
    }

    /// im2col of one plane (stride 1 and 2, several windows and paddings) against its definition.
    /// Planes whose bordered rows fit a vector take the lane-permute path of the AVX builds
    /// (14×14, 7×7, 5×9, 4×4, 9×10, 3×12); wider or taller ones the row-by-row path.
    func testIm2colAgreesAcrossBuildsAndWithItsDefinition() {
        let cases: [(H: Int, W: Int, k: (Int, Int), s: Int, top: Int, left: Int, bottom: Int, right: Int)] = [
            (28, 28, (4, 4), 2, 1, 1, 1, 1), (7, 7, (3, 3), 2, 1, 1, 1, 1), (14, 14, (4, 4), 2, 1, 1, 1, 1),
            (5, 9, (3, 3), 1, 1, 1, 1, 1), (6, 37, (3, 5), 1, 0, 2, 2, 0), (9, 40, (3, 3), 2, 0, 0, 1, 1),
            (4, 4, (1, 1), 2, 0, 0, 0, 0), (3, 33, (2, 3), 1, 0, 0, 0, 0),
            // The image's last column and row unused; padding wider than the window's reach; a plane
            // 70 bordered rows tall; one whose 16 positions span four rows of positions.
            (9, 10, (3, 3), 2, 0, 0, 0, 0), (4, 4, (3, 3), 2, 2, 2, 2, 2), (68, 6, (3, 3), 1, 1, 1, 1, 1),
            (3, 12, (2, 2), 2, 2, 3, 1, 2)]
        for c in cases {
            let (kH, kW) = c.k
            let outH = (c.H + c.top + c.bottom - kH) / c.s + 1, outW = (c.W + c.left + c.right - kW) / c.s + 1
            let rowStride = outH * outW + 3
            let x = randomInput(c.H * c.W, seed: UInt64(c.H * 64 + c.W))
            let what = "\(c.H)×\(c.W) k\(kH)×\(kW) s\(c.s) pad \(c.top),\(c.left)"
            let results = perBuild { () -> [Float] in
                var columns = [Float](repeating: 99, count: kH * kW * rowStride)
                let done = n2n_im2col_plane(x, c.H, c.W, kH, kW, c.s, c.top, c.left, outH, outW, &columns, rowStride)
                XCTAssertEqual(done, 1, "\(what): declined")
                return columns
            }
            assertBitwiseEqual(results, what)
            for tap in 0..<(kH * kW) {
                let (u, v) = (tap / kW, tap % kW)
                for i in 0..<outH {
                    for j in 0..<outW {
                        let (r, q) = (i * c.s - c.top + u, j * c.s - c.left + v)
                        let truth: Float = r >= 0 && r < c.H && q >= 0 && q < c.W ? x[r * c.W + q] : 0
                        XCTAssertEqual(results[0].1[tap * rowStride + i * outW + j], truth, "\(what) tap \(tap) at \(i), \(j)")
                    }
                }
                // Nothing is written between one tap's positions and the next tap's.
                XCTAssertEqual(Array(results[0].1[(tap * rowStride + outH * outW)..<((tap + 1) * rowStride)]), [99, 99, 99], what)
            }
        }
        // Stride 3, and a plane too large for the kernel's stack copy, are declined untouched. (Stride 3
        // fits the lane-permute path but is declined there too, so that the contract is the same in every build.)
        var untouched = [Float](repeating: 7, count: 9)
        XCTAssertEqual(n2n_im2col_plane(randomInput(36, seed: 1), 6, 6, 3, 3, 3, 0, 0, 2, 2, &untouched, 1), 0)
        XCTAssertEqual(untouched, [Float](repeating: 7, count: 9))
        XCTAssertEqual(n2n_im2col_plane(randomInput(10_000, seed: 2), 100, 100, 3, 3, 1, 1, 1, 100, 100, &untouched, 0), 0)
        XCTAssertEqual(untouched, [Float](repeating: 7, count: 9))
    }

    /// col2im of planes whose bordered rows fit a vector, in the AVX builds, against the scalar
    /// sum in tap order bit for bit; the baseline build and every other plane decline untouched.
    func testNarrowCol2imEqualsTheTapOrderSumBitForBit() {
        let cases: [(H: Int, W: Int, k: (Int, Int), s: Int, top: Int, left: Int, bottom: Int, right: Int)] = [
            (7, 7, (3, 3), 2, 1, 1, 1, 1), (14, 14, (4, 4), 2, 1, 1, 1, 1), (5, 9, (3, 3), 1, 1, 1, 1, 1),
            (9, 10, (3, 3), 2, 0, 0, 0, 0), (4, 4, (3, 3), 2, 2, 2, 2, 2), (3, 12, (2, 2), 2, 2, 3, 1, 2),
            (4, 4, (1, 1), 2, 0, 0, 0, 0), (6, 5, (2, 3), 1, 0, 2, 1, 0),
            // Declined: rows wider than a vector, 70 bordered rows, stride 3.
            (28, 28, (4, 4), 2, 1, 1, 1, 1), (68, 6, (3, 3), 1, 1, 1, 1, 1), (6, 6, (3, 3), 3, 0, 0, 0, 0)]
        for c in cases {
            let (kH, kW) = c.k
            let outH = (c.H + c.top + c.bottom - kH) / c.s + 1, outW = (c.W + c.left + c.right - kW) / c.s + 1
            let rowStride = outH * outW + 3
            let borderedWidth = (outW - 1) * c.s + kW, borderedHeight = (outH - 1) * c.s + kH
            let fits = borderedWidth <= 16 && c.W <= 16 && borderedHeight <= 64 && c.s <= 2
            // Signed zeros, infinities and NaN among the columns, so that "+0 where no tap reaches" is checked too.
            var columns = randomInput(kH * kW * rowStride, seed: UInt64(c.H * 97 + c.W))
            for (at, special) in [(0, Float(-0.0)), (5, .infinity), (9, -.infinity), (13, .nan)] where at < columns.count {
                columns[at] = special
            }
            var expected = [Float](repeating: 0, count: c.H * c.W)
            for tap in 0..<(kH * kW) {
                let (u, v) = (tap / kW, tap % kW)
                for i in 0..<outH {
                    for j in 0..<outW {
                        let (r, q) = (i * c.s - c.top + u, j * c.s - c.left + v)
                        if r >= 0 && r < c.H && q >= 0 && q < c.W { expected[r * c.W + q] += columns[tap * rowStride + i * outW + j] }
                    }
                }
            }
            let what = "\(c.H)×\(c.W) k\(kH)×\(kW) s\(c.s) pad \(c.top),\(c.left)"
            for (set, (done, x)) in perBuild({ () -> (Int32, [Float]) in
                var x = [Float](repeating: 99, count: c.H * c.W)
                let done = n2n_col2im_plane(columns, rowStride, c.H, c.W, kH, kW, c.s, c.top, c.left, outH, outW, &x)
                return (done, x)
            }) {
                if set == .baseline || !fits {
                    XCTAssertEqual(done, 0, "\(what) [\(set)]")
                    XCTAssertEqual(x, [Float](repeating: 99, count: c.H * c.W), "\(what) [\(set)]: written although declined")
                } else {
                    XCTAssertEqual(done, 1, "\(what) [\(set)]: declined")
                    let differing = zip(x, expected).filter { $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN) }
                    XCTAssertTrue(differing.isEmpty, "\(what) [\(set)]: \(differing.count) pixels differ, e.g. \(differing.prefix(3))")
                }
            }
        }
    }
}
