import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same stream on every platform. The state is four
/// words and can be saved and restored (`state`), so training can resume
/// exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The full generator state.
    public var state: [UInt64]

    /// Creates a generator whose stream is determined by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitMix(), splitMix(), splitMix(), splitMix()]
    }

    /// Restores a generator from a saved `state` (four words, not all zero).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "invalid generator state")
        self.state = state
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((state[1] &* 5) << 7 | (state[1] &* 5) >> 57) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = state[3] << 45 | state[3] >> 19
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Fills `buffer` with independent standard normal samples (Box–Muller
    /// in Double, two samples per pair of uniforms).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, standardDeviation: Float = 1) {
        var i = 0
        let n = buffer.count
        while i < n {
            // u1 in (0, 1], u2 in [0, 1)
            let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
            let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            buffer[i] = mean + standardDeviation * Float(radius * Foundation.cos(angle))
            if i + 1 < n { buffer[i + 1] = mean + standardDeviation * Float(radius * Foundation.sin(angle)) }
            i += 2
        }
    }

    /// A `[shape]` tensor of standard normal samples scaled by `standardDeviation`.
    public mutating func normalTensor(_ shape: [Int], standardDeviation: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        t.withUnsafeMutableBufferPointer { fillNormal($0, standardDeviation: standardDeviation) }
        return t
    }

    /// The order in which training epoch `epoch` (from 0) visits `count`
    /// rows: a permutation that depends only on (`seed`, `epoch`), so that a
    /// resumed run sees the same batches as an uninterrupted one. Every
    /// trainer draws its epochs here.
    public static func epochOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        precondition(epoch >= 0, "epochs count from 0")
        // Epoch e's stream: seed + (e + 1)·0x9E3779B9 (a 32-bit golden-ratio step).
        var generator = SeededGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
        return generator.permutation(count)
    }

    /// A uniformly random permutation of `0..<count` (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        if count < 2 { return p }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}
