import CKernels
import XCTest
import TensorCore

/// Our in-place GEMM kernels (`n2n_sgemm_in_place`, behind `batchGEMM`) in
/// every build the machine runs, against a product summed in Double: all
/// three forms, tiles cut at every row and column count, several slices of B's
/// rows, strides wider than the rows, α and β, and nothing written outside C.
final class InPlaceGEMMTests: XCTestCase {
    override func tearDown() {
        InstructionSet.select(.avx512)  // back to the best supported
    }

    func randomMatrix(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    /// C's padding between rows (past column n) holds this, which no kernel may change.
    let sentinel: Float = 12345

    /// Runs one product in the selected build and checks it; returns whether the build took it.
    func check(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
               seed: UInt64, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        // op(A) is [m, k] and op(B) [k, n]; each stored with 3 floats of padding per row.
        let (rowsA, columnsA) = transposeA ? (k, m) : (m, k)
        let (rowsB, columnsB) = transposeB ? (n, k) : (k, n)
        let lda = columnsA + 3, ldb = columnsB + 3, ldc = n + 2
        let a = randomMatrix(rowsA * lda, seed: seed), b = randomMatrix(rowsB * ldb, seed: seed + 1)
        var c = randomMatrix(m * ldc, seed: seed + 2)
        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = sentinel } }
        if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } } }  // must not be read
        let before = c
        let taken = n2n_sgemm_in_place(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb,
                                       beta, &c, ldc)
        let what = "\(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B") m \(m) n \(n) k \(k) α \(alpha) β \(beta) [\(InstructionSet.current)]"
        guard taken != 0 else {
            XCTAssertTrue(zip(c, before).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(what): declined but wrote C",
                          file: file, line: line)
            return false
        }
        for i in 0..<m {
            for j in 0..<ldc {
                let value = c[i * ldc + j]
                if j >= n {
                    XCTAssertEqual(value, sentinel, "\(what): wrote past row \(i)'s end", file: file, line: line)
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let x = Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    magnitude += abs(x * y)
                }
                let old = beta == 0 ? 0 : Double(before[i * ldc + j])
                let truth = Double(alpha) * sum + Double(beta) * old
                let tolerance = 1e-6 * (Double(abs(alpha)) * magnitude + abs(Double(beta) * old)) + 1e-6
                if abs(Double(value) - truth) > tolerance || value.isNaN {
                    XCTFail("\(what): C[\(i), \(j)] = \(value), want \(truth)", file: file, line: line)
                    return true
                }
            }
        }
        return true
    }

    func testEveryFormAndTileEdgeAgreesWithADoubleSum() {
        let rows = [1, 2, 3, 5, 6, 7, 8, 9, 13, 16, 17]
        let columns = [1, 15, 16, 17, 31, 47, 48, 49, 64, 97]
        let depths = [1, 3, 16, 17, 70]
        for set in InstructionSet.allCases {
            let used = InstructionSet.select(set)
            var seed: UInt64 = 0
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true)] {
                for m in rows {
                    for n in columns {
                        for k in depths {
                            seed += 3
                            let (alpha, beta): (Float, Float) = [(1, 0), (1, 1), (-0.5, 0.25)][Int(seed) % 3]
                            let taken = check(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                              alpha: alpha, beta: beta, seed: seed)
                            // Only the baseline build has no kernels; the others take every such product.
                            XCTAssertEqual(taken, used != .baseline, "m \(m) n \(n) k \(k) [\(used)]")
                        }
                    }
                }
            }
        }
    }

    /// Shapes the size of the flow's layers, with several slices of B's rows (each prefetched while
    /// the one before is multiplied) and rows a power of two apart.
    func testLayerSizedProducts() {
        InstructionSet.select(.avx512)
        for transposeB in [false, true] {
            for (m, n, k) in [(16, 256, 600), (64, 144, 256), (128, 40, 300), (3, 1024, 520)] {
                XCTAssertTrue(check(transposeA: false, transposeB: transposeB, m: m, n: n, k: k,
                                    alpha: 1, beta: 1, seed: UInt64(m + n + k)))
            }
        }
        // Weight gradients: C is the weights' shape, the batch is shared.
        for (m, n, k) in [(600, 256, 16), (130, 1024, 64), (40, 300, 128)] {
            XCTAssertTrue(check(transposeA: true, transposeB: false, m: m, n: n, k: k, alpha: 1, beta: 0,
                                seed: UInt64(m + n + k)))
        }
    }

    /// The AVX2 build's tiles run only where they beat BLAS's AVX2 kernels: A·B up to 16 rows.
    func testTheAVX2BuildTakesOnlySmallBatchesOfAB() {
        ComputeThreads.withSingleThreadedBLAS {
            guard InstructionSet.select(.avx2) == .avx2 else { return }
            XCTAssertEqual(InPlaceGEMM.applies(.none, .none, m: 16, n: 1024, k: 1024), InPlaceGEMM.isEnabled)
            XCTAssertFalse(InPlaceGEMM.applies(.none, .none, m: 17, n: 1024, k: 1024))
            XCTAssertFalse(InPlaceGEMM.applies(.none, .transposed, m: 16, n: 1024, k: 1024))
            XCTAssertFalse(InPlaceGEMM.applies(.transposed, .none, m: 1024, n: 1024, k: 16))
            InstructionSet.select(.baseline)
            XCTAssertTrue(check(transposeA: false, transposeB: false, m: 4, n: 40, k: 20, alpha: 1, beta: 0, seed: 9)
                          == false, "the baseline build has no tiles")
        }
    }

    func testAᵀBᵀAndEmptyProductsAreDeclined() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        XCTAssertEqual(n2n_sgemm_in_place(1, 1, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2), 0)
        XCTAssertEqual(n2n_sgemm_in_place(0, 0, 2, 2, 0, 1, a, 2, b, 2, 0, &c, 2), 0)
        XCTAssertEqual(n2n_sgemm_in_place(0, 0, 0, 2, 2, 1, a, 2, b, 2, 0, &c, 2), 0)
        XCTAssertEqual(c, [1, 2, 3, 4])
    }

    /// `batchGEMM` gives what `gemm` gives (through BLAS) whichever path it takes, and takes ours
    /// only at batch sizes it is meant for and with single-threaded BLAS.
    func testBatchGEMMAgreesWithBLAS() {
        InstructionSet.select(.avx512)
        guard InstructionSet.current == .avx512 else {
            XCTAssertFalse(InPlaceGEMM.applies(.none, .transposed, m: 16, n: 80, k: 300))
            XCTAssertEqual(InPlaceGEMM.applies(.none, .none, m: 32, n: 80, k: 300), false)
            return
        }
        let threads = ComputeThreads.blasThreads
        defer { ComputeThreads.set(threads) }
        // (batch, BLAS threads, weights k × n, whether ours runs)
        for (batch, blasThreads, (k, n), ours) in [(16, 1, (300, 80), true), (1, 1, (300, 80), false),
                                                   (16, 2, (300, 80), false), (64, 1, (300, 80), false),
                                                   (128, 1, (512, 512), true), (129, 1, (512, 512), false)] {
            ComputeThreads.set(blasThreads)
            let what = "batch \(batch), \(blasThreads) BLAS threads"
            XCTAssertEqual(InPlaceGEMM.applies(.none, .none, m: batch, n: n, k: k), ours && InPlaceGEMM.isEnabled, what)
            XCTAssertEqual(InPlaceGEMM.applies(.none, .transposed, m: batch, n: n, k: k), ours && InPlaceGEMM.isEnabled, what)
            XCTAssertEqual(InPlaceGEMM.applies(.transposed, .none, m: k, n: n, k: batch),
                           batch >= 2 && batch <= 128 && blasThreads == 1 && InPlaceGEMM.isEnabled, what)
            let x = randomMatrix(batch * k, seed: 1), w = randomMatrix(k * n, seed: 2)
            for transposeB in [Transpose.none, .transposed] {
                // x·W with W [k, n], or x·Wᵀ with the same numbers read as W [n, k].
                let ldb = transposeB == .none ? n : k
                var viaBatch = [Float](repeating: 0, count: batch * n), viaBLAS = viaBatch
                batchGEMM(.none, transposeB, m: batch, n: n, k: k, a: x, lda: k, b: w, ldb: ldb, c: &viaBatch, ldc: n)
                gemm(.none, transposeB, m: batch, n: n, k: k, a: x, lda: k, b: w, ldb: ldb, c: &viaBLAS, ldc: n)
                let largest = zip(viaBatch, viaBLAS).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(largest, 1e-4, "\(what), \(transposeB)")
            }
            // The weight gradient xᵀ·dy [k, n] of the same batch.
            let dy = randomMatrix(batch * n, seed: 3)
            var gradientViaBatch = [Float](repeating: 0, count: k * n), gradientViaBLAS = gradientViaBatch
            batchGEMM(.transposed, .none, m: k, n: n, k: batch, a: x, lda: k, b: dy, ldb: n, c: &gradientViaBatch, ldc: n)
            gemm(.transposed, .none, m: k, n: n, k: batch, a: x, lda: k, b: dy, ldb: n, c: &gradientViaBLAS, ldc: n)
            let largest = zip(gradientViaBatch, gradientViaBLAS).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(largest, 1e-4, "\(what), weight gradient")
        }
    }
}
