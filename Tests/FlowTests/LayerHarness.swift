import XCTest
import TestSupport
@testable import Flow
import Layers
import TensorCore

/// Generic oracle checks for any `InvertibleLayer`: round trip, log-det
/// symmetry, log-det against a numerical Jacobian, and gradients against
/// central finite differences of the scalar
/// L = Σ w ⊙ y + Σ u ⊙ logdet for fixed random w, u.
struct LayerHarness<Layer: InvertibleLayer> {
    let layer: Layer
    let parameters: FloatBuffer
    let layout: ParameterLayout
    let embeddingDimension: Int
    /// The on/off pattern of every LeakyReLU after a forward pass, for
    /// layers that have them: finite differences are only meaningful where
    /// the pattern does not change.
    var activationPattern: ((Layer.Workspace) -> [Bool])? = nil

    func embeddingFor(_ batch: Int, _ generator: inout SeededGenerator) -> [Float]? {
        embeddingDimension > 0 ? generator.normalTensor([batch, embeddingDimension]).scalars : nil
    }

    /// (y, logdet) of forward.
    func forward(_ x: [Float], batch: Int, embedding: [Float]?) -> ([Float], [Float]) {
        let w = layer.makeWorkspace(batch: batch)
        var y = [Float](repeating: 0, count: x.count)
        var logDet = [Float](repeating: 0, count: batch)
        withOptional(embedding) { e in
            layer.forward(x, into: &y, batch: batch, embedding: e, logDet: &logDet,
                          parameters: parameters.pointer, workspace: w)
        }
        return (y, logDet)
    }

    func inverse(_ y: [Float], batch: Int, embedding: [Float]?) -> ([Float], [Float]) {
        let w = layer.makeWorkspace(batch: batch)
        var x = [Float](repeating: 0, count: y.count)
        var logDet = [Float](repeating: 0, count: batch)
        withOptional(embedding) { e in
            layer.inverse(y, into: &x, batch: batch, embedding: e, logDet: &logDet,
                          parameters: parameters.pointer, workspace: w)
        }
        return (x, logDet)
    }

    func checkRoundTrip(batch: Int = 7, tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        var g = SeededGenerator(seed: 11)
        let D = layer.dimension
        let x = g.normalTensor([batch, D]).scalars
        let e = embeddingFor(batch, &g)
        let (y, ldF) = forward(x, batch: batch, embedding: e)
        let (x2, ldI) = inverse(y, batch: batch, embedding: e)
        XCTAssertLessThanOrEqual(maxAbsDifference(x, x2), tolerance, "inverse(forward(x)) ≠ x", file: file, line: line)
        for r in 0..<batch {
            XCTAssertEqual(ldF[r] + ldI[r], 0, accuracy: 1e-4 * max(1, abs(ldF[r])),
                           "forward + inverse log-det ≠ 0", file: file, line: line)
        }
        // And the other way: forward(inverse(v)) = v.
        let (xv, _) = inverse(x, batch: batch, embedding: e)
        let (v2, _) = forward(xv, batch: batch, embedding: e)
        XCTAssertLessThanOrEqual(maxAbsDifference(x, v2), tolerance, "forward(inverse(v)) ≠ v", file: file, line: line)
    }

    /// log|det J| of one row against the Jacobian from central differences (in Double).
    func checkLogDetAgainstJacobian(file: StaticString = #filePath, line: UInt = #line) {
        var g = SeededGenerator(seed: 5)
        let D = layer.dimension
        let x = g.normalTensor([1, D]).scalars
        let e = embeddingFor(1, &g)
        let (_, logDet) = forward(x, batch: 1, embedding: e)
        var jacobian = [[Double]](repeating: [Double](repeating: 0, count: D), count: D)
        let h: Float = 1e-2
        for j in 0..<D {
            var plus = x, minus = x
            plus[j] += h
            minus[j] -= h
            let (yp, _) = forward(plus, batch: 1, embedding: e)
            let (ym, _) = forward(minus, batch: 1, embedding: e)
            for i in 0..<D { jacobian[i][j] = Double(yp[i] - ym[i]) / Double(2 * h) }
        }
        let numeric = logAbsDeterminant(jacobian)
        XCTAssertEqual(Double(logDet[0]), numeric, accuracy: 2e-3 * max(1, abs(numeric)),
                       "log-det disagrees with the numerical Jacobian", file: file, line: line)
    }

    /// Gradients of L = Σ w⊙y + Σ u⊙logdet w.r.t. x, the embedding and every
    /// parameter entry, against central differences along random directions.
    func checkGradients(batch: Int = 3, file: StaticString = #filePath, line: UInt = #line) {
        var g = SeededGenerator(seed: 9)
        let D = layer.dimension
        let x = g.normalTensor([batch, D]).scalars
        let e = embeddingFor(batch, &g)
        let wy = g.normalTensor([batch, D]).scalars
        let u = g.normalTensor([batch]).scalars

        func objective(_ x: [Float], _ e: [Float]?) -> (value: Double, pattern: [Bool]) {
            let w = layer.makeWorkspace(batch: batch)
            var y = [Float](repeating: 0, count: batch * D)
            var logDet = [Float](repeating: 0, count: batch)
            withOptional(e) { ep in
                layer.forward(x, into: &y, batch: batch, embedding: ep, logDet: &logDet,
                              parameters: parameters.pointer, workspace: w)
            }
            let value = zip(y, wy).reduce(0.0) { $0 + Double($1.0 * $1.1) }
                + zip(logDet, u).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            return (value, activationPattern?(w) ?? [])
        }

        // Analytic gradients.
        let workspace = layer.makeWorkspace(batch: batch)
        var y = [Float](repeating: 0, count: batch * D)
        var logDet = [Float](repeating: 0, count: batch)
        var dx = [Float](repeating: 0, count: batch * D)
        var dE = [Float](repeating: 0, count: batch * embeddingDimension)
        let gradients = FloatBuffer(count: parameters.count)
        withOptional(e) { ep in
            layer.forward(x, into: &y, batch: batch, embedding: ep, logDet: &logDet,
                          parameters: parameters.pointer, workspace: workspace)
            dE.withUnsafeMutableBufferPointer { dEp in
                layer.backward(dy: wy, dLogDet: u, into: &dx, batch: batch, embedding: ep,
                               parameters: parameters.pointer, gradients: gradients.pointer,
                               dEmbedding: embeddingDimension > 0 ? dEp.baseAddress! : nil, workspace: workspace)
            }
        }

        // Central differences (step 1e-3) on a seeded sample of coordinates
        // of each tensor. Where a LeakyReLU switches between x − h and x + h
        // the function has a kink and differences mean nothing; such a
        // coordinate is replaced by another, and at least 2 must be checked.
        let basePattern = objective(x, e).pattern
        func checkCoordinates(_ analytic: [Float], _ what: String, _ evaluate: (Int, Float) -> (value: Double, pattern: [Bool])) {
            var gen = SeededGenerator(seed: UInt64(analytic.count) &+ 77)
            let order = gen.permutation(analytic.count)
            var checked = 0
            for i in order where checked < 8 {
                for h: Float in [1e-3, 2e-4] {
                    let plus = evaluate(i, h), minus = evaluate(i, -h)
                    if plus.pattern != basePattern || minus.pattern != basePattern { continue }
                    // Round-off in the difference grows as 1/h.
                    assertGradient(Double(analytic[i]), (plus.value - minus.value) / Double(2 * h), "\(what)[\(i)]",
                                   absolute: 2e-6 / Double(h), file: file, line: line)
                    checked += 1
                    break
                }
            }
            XCTAssertGreaterThanOrEqual(checked, min(2, analytic.count), "\(what): too few smooth coordinates",
                                        file: file, line: line)
        }

        checkCoordinates(dx, "input gradient") { i, h in
            var moved = x
            moved[i] += h
            return objective(moved, e)
        }
        if let e {
            checkCoordinates(dE, "embedding gradient") { i, h in
                var moved = e
                moved[i] += h
                return objective(x, moved)
            }
        }
        for entry in layout.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            checkCoordinates(gradients.array(range), "gradient of \(entry.name)") { i, h in
                let saved = parameters[entry.offset + i]
                parameters[entry.offset + i] = saved + h
                defer { parameters[entry.offset + i] = saved }
                return objective(x, e)
            }
        }
    }
}

func withOptional<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    if let values { return values.withUnsafeBufferPointer { body($0.baseAddress!) } }
    return body(nil)
}

/// log|det A| by Gaussian elimination with partial pivoting.
func logAbsDeterminant(_ matrix: [[Double]]) -> Double {
    var a = matrix
    let n = a.count
    var result = 0.0
    for k in 0..<n {
        let pivot = (k..<n).max { abs(a[$0][k]) < abs(a[$1][k]) }!
        a.swapAt(k, pivot)
        result += log(abs(a[k][k]))
        for i in (k + 1)..<n {
            let f = a[i][k] / a[k][k]
            for j in k..<n { a[i][j] -= f * a[k][j] }
        }
    }
    return result
}

/// Fills every parameter with small random values (so that no layer is the identity).
func randomize(_ buffer: FloatBuffer, scale: Float, seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    for i in 0..<buffer.count { buffer[i] = scale * (2 * g.nextUniform() - 1) }
}
