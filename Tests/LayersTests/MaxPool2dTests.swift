import Layers
import TensorCore
import XCTest

/// MaxPool2d (channels-last) against a direct loop over PyTorch's definition.
final class MaxPool2dTests: XCTestCase {
    func testAgainstNaiveLoop() {
        var generator = SeededGenerator(seed: 9)
        for (k, s, p, N, H, W, C) in [(3, 2, 1, 2, 7, 6, 3), (2, 2, 0, 1, 8, 4, 5), (3, 1, 1, 1, 5, 5, 2), (3, 2, 1, 1, 1, 1, 4)] {
            let pool = MaxPool2d(kernelSize: k, stride: s, padding: p)
            let x = generator.normalTensor([N, H, W, C])
            let (ho, wo) = pool.outputSize(height: H, width: W)
            XCTAssertEqual(ho, (H + 2 * p - k) / s + 1)
            var y = [Float](repeating: .nan, count: N * ho * wo * C)
            x.withUnsafeBufferPointer { input in
                y.withUnsafeMutableBufferPointer { output in
                    pool.forwardChannelsLast(input.baseAddress!, batch: N, height: H, width: W, channels: C, into: output.baseAddress!)
                }
            }
            for n in 0..<N {
                for i in 0..<ho {
                    for j in 0..<wo {
                        for c in 0..<C {
                            var best = -Float.infinity
                            for u in 0..<k {
                                for v in 0..<k {
                                    let r = i * s - p + u, q = j * s - p + v
                                    if r >= 0 && r < H && q >= 0 && q < W { best = max(best, x.scalars[((n * H + r) * W + q) * C + c]) }
                                }
                            }
                            XCTAssertEqual(y[((n * ho + i) * wo + j) * C + c], best, "k\(k) s\(s) p\(p) at \(n),\(i),\(j),\(c)")
                        }
                    }
                }
            }
        }
    }
}
