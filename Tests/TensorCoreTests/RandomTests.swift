import XCTest
import TensorCore

/// `SeededGenerator`: reproducible streams, exact resume, sound samples.
final class RandomTests: XCTestCase {
    func draw(_ generator: inout SeededGenerator, _ count: Int) -> [UInt64] {
        (0..<count).map { _ in generator.next() }
    }

    /// Known answers from the reference C code of SplitMix64 and xoshiro256**,
    /// so streams are the same on every platform and release.
    func testMatchesReferenceImplementation() {
        var fromState = SeededGenerator(state: [1, 2, 3, 4])
        XCTAssertEqual(draw(&fromState, 4), [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240])
        XCTAssertEqual(SeededGenerator(seed: 0).state,
                       [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        var seeded = SeededGenerator(seed: 42)
        XCTAssertEqual(draw(&seeded, 3), [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
    }

    func testSameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let streamA = draw(&a, 100)
        XCTAssertEqual(streamA, draw(&b, 100))
        XCTAssertNotEqual(streamA, draw(&c, 100))
        var d = SeededGenerator(seed: 7), e = SeededGenerator(seed: 7)
        XCTAssertEqual(d.normalTensor([33]), e.normalTensor([33]))
    }

    func testSavedStateResumesIdentically() {
        var generator = SeededGenerator(seed: 11)
        _ = draw(&generator, 17)
        var resumed = SeededGenerator(state: generator.state)
        XCTAssertEqual(resumed, generator)
        XCTAssertEqual(draw(&generator, 50), draw(&resumed, 50))
        XCTAssertEqual(generator.normalTensor([5, 3]), resumed.normalTensor([5, 3]))
        XCTAssertEqual(generator.permutation(20), resumed.permutation(20))
    }

    func testUniformIsInUnitInterval() {
        var generator = SeededGenerator(seed: 5)
        var sum = 0.0
        for _ in 0..<100_000 {
            let u = generator.nextUniform()
            XCTAssertTrue(u >= 0 && u < 1)
            sum += Double(u)
        }
        // Mean 1/2, standard error √(1/12 / n) ≈ 9.1e-4.
        XCTAssertEqual(sum / 100_000, 0.5, accuracy: 5 * 9.13e-4)
    }

    func testNormalSamplesHaveUnitMomentsAndRespectScale() {
        let n = 200_001  // odd: the last pair is cut in half
        var generator = SeededGenerator(seed: 6)
        let samples = generator.normalTensor([n]).scalars.map(Double.init)
        let mean = samples.reduce(0, +) / Double(n)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        // Standard errors: mean 1/√n, variance √(2/(n−1)) for a normal sample.
        XCTAssertEqual(mean, 0, accuracy: 5 / Double(n).squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 5 * (2 / Double(n - 1)).squareRoot())
        XCTAssertTrue(samples.allSatisfy { $0.isFinite })

        var scaled = [Float](repeating: .nan, count: 10_000)
        scaled.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 3, standardDeviation: 0.5) }
        let scaledMean = scaled.reduce(0.0) { $0 + Double($1) } / 10_000
        XCTAssertEqual(scaledMean, 3, accuracy: 5 * 0.5 / 100)
    }

    /// The epoch order every trainer uses: a permutation fixed by (seed,
    /// epoch), different for another epoch or seed, and the stream
    /// seed + (epoch + 1)·0x9E3779B9 (the formula checkpoints were written with).
    func testEpochOrderDependsOnlyOnSeedAndEpoch() {
        let order = SeededGenerator.epochOrder(count: 103, seed: 7, epoch: 0)
        XCTAssertEqual(order.sorted(), Array(0..<103))
        XCTAssertEqual(SeededGenerator.epochOrder(count: 103, seed: 7, epoch: 0), order)
        XCTAssertNotEqual(SeededGenerator.epochOrder(count: 103, seed: 7, epoch: 1), order)
        XCTAssertNotEqual(SeededGenerator.epochOrder(count: 103, seed: 8, epoch: 0), order)
        var generator = SeededGenerator(seed: 7 &+ 0x9E37_79B9 &* 3)
        XCTAssertEqual(SeededGenerator.epochOrder(count: 103, seed: 7, epoch: 2), generator.permutation(103))
    }

    func testPermutationIsAPermutation() {
        var generator = SeededGenerator(seed: 9)
        for count in [0, 1, 2, 3, 10, 1000] {
            let p = generator.permutation(count)
            XCTAssertEqual(p.sorted(), Array(0..<count))
        }
        XCTAssertNotEqual(generator.permutation(1000), Array(0..<1000))
    }
}
