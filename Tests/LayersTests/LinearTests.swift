import XCTest
import TestSupport
import Layers
import TensorCore

/// `Linear` against naive loops in Double, with row strides larger than the
/// widths (so a mix-up of `ld` and width shows) and an offset layout.
/// `TransposedLinearTests` runs every test again with Wᵀ kept in memory.
class LinearTests: XCTestCase {
    /// Whether the layer under test keeps Wᵀ `[in, out]` in memory.
    class var storedTransposed: Bool { false }

    let B = 5, n = 7, m = 4          // batch, input, output
    let ldx = 9, ldy = 6, lddx = 8
    var layout = ParameterLayout()
    var layer: Linear!
    var parameters: FloatBuffer!
    var x: [Float] = []

    override func setUp() {
        layout = ParameterLayout()
        layout.add("before", shape: [3])   // so that W and b do not start at 0
        layer = Linear("fc", inputDimension: n, outputDimension: m, storedTransposed: Self.storedTransposed,
                       layout: &layout)
        parameters = FloatBuffer(count: layout.count)
        var g = SeededGenerator(seed: 1)
        layer.initialize(parameters.pointer, using: &g)
        x = normals(B * ldx, seed: 2)
    }

    /// Where W[o, i] lives in memory.
    func weightIndex(_ o: Int, _ i: Int) -> Int {
        layer.weightOffset + (Self.storedTransposed ? i * m + o : o * n + i)
    }
    func w(_ o: Int, _ i: Int) -> Double { Double(parameters[weightIndex(o, i)]) }
    func b(_ o: Int) -> Double { Double(parameters[layer.biasOffset + o]) }

    func testLayoutAndInitialisation() {
        XCTAssertEqual(layout.entry("fc.weight")?.shape, [m, n])
        XCTAssertEqual(layout.entry("fc.bias")?.shape, [m])
        XCTAssertEqual(layer.weightOffset % 16, 0)
        XCTAssertEqual(layer.biasOffset % 16, 0)
        XCTAssertGreaterThanOrEqual(layer.weightOffset, 3)
        let bound = 1 / Float(n).squareRoot()
        let values = parameters.array(layer.weightOffset..<(layer.weightOffset + m * n))
            + parameters.array(layer.biasOffset..<(layer.biasOffset + m))
        XCTAssertTrue(values.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(values.map { abs($0) }.max()!, bound / 2)
        XCTAssertEqual(Set(values).count, values.count, "initial values are not distinct")
    }

    func testForwardMatchesNaiveLoops() {
        var y = [Float](repeating: 99, count: B * ldy)
        layer.forward(x, ldx: ldx, batch: B, parameters: parameters.pointer, into: &y, ldy: ldy)
        for r in 0..<B {
            for o in 0..<m {
                var expected = b(o)
                for i in 0..<n { expected += Double(x[r * ldx + i]) * w(o, i) }
                assertNear(y[r * ldy + o], expected, "y[\(r), \(o)]")
            }
            for o in m..<ldy { XCTAssertEqual(y[r * ldy + o], 99, "padding of y written") }
        }
    }

    /// dW = dyᵀx, db = Σ dy, dx = dy·W; overwritten (even over NaN) or
    /// accumulated as the flags say, and padding never written.
    func testBackwardMatchesNaiveLoops() {
        let dy = normals(B * ldy, seed: 3)
        var dW = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
        var db = [Double](repeating: 0, count: m)
        var dx = [[Double]](repeating: [Double](repeating: 0, count: n), count: B)
        for r in 0..<B {
            for o in 0..<m {
                let d = Double(dy[r * ldy + o])
                db[o] += d
                for i in 0..<n {
                    dW[o][i] += d * Double(x[r * ldx + i])
                    dx[r][i] += d * w(o, i)
                }
            }
        }
        for accumulate in [false, true] {
            let gradients = FloatBuffer(count: layout.count)
            let previous = normals(layout.count, seed: 4)
            if accumulate { gradients.assign(previous) } else { gradients.assign([Float](repeating: .nan, count: layout.count)) }
            gradients[0] = 42  // "before" is not touched
            var dxOut = accumulate ? normals(B * lddx, seed: 5) : [Float](repeating: .nan, count: B * lddx)
            let dxPrevious = dxOut
            for r in 0..<B { for i in n..<lddx { dxOut[r * lddx + i] = 99 } }
            layer.backward(x, ldx: ldx, batch: B, dy: dy, lddy: ldy,
                           parameters: parameters.pointer, gradients: gradients.pointer,
                           accumulateParameters: accumulate, dx: &dxOut, lddx: lddx, accumulateInput: accumulate)
            let tag = accumulate ? "accumulated" : "written"
            XCTAssertEqual(gradients[0], 42)
            for o in 0..<m {
                let index = layer.biasOffset + o
                assertNear(gradients[index], db[o] + (accumulate ? Double(previous[index]) : 0), "\(tag) db[\(o)]")
                for i in 0..<n {
                    let index = weightIndex(o, i)
                    assertNear(gradients[index], dW[o][i] + (accumulate ? Double(previous[index]) : 0),
                               "\(tag) dW[\(o), \(i)]")
                }
            }
            for r in 0..<B {
                for i in 0..<n {
                    assertNear(dxOut[r * lddx + i], dx[r][i] + (accumulate ? Double(dxPrevious[r * lddx + i]) : 0),
                               "\(tag) dx[\(r), \(i)]")
                }
                for i in n..<lddx { XCTAssertEqual(dxOut[r * lddx + i], 99, "padding of dx written") }
            }
        }
    }

    func testBackwardWithoutInputGradient() {
        let dy = normals(B * m, seed: 6)
        let withInput = FloatBuffer(count: layout.count), without = FloatBuffer(count: layout.count)
        var dx = [Float](repeating: 0, count: B * n)
        layer.backward(x, ldx: ldx, batch: B, dy: dy, lddy: m, parameters: parameters.pointer,
                       gradients: withInput.pointer, dx: &dx, lddx: n)
        layer.backward(x, ldx: ldx, batch: B, dy: dy, lddy: m, parameters: parameters.pointer,
                       gradients: without.pointer, dx: nil, lddx: n)
        XCTAssertEqual(withInput.array(), without.array())
    }

    /// The directional derivative of L = Σ u⊙y along a random direction in
    /// (W, b, x) equals ⟨gradient, direction⟩; L is linear in each, so a
    /// central difference is exact up to round-off.
    func testGradientAgainstDirectionalDifference() {
        let u = normals(B * m, seed: 7)
        let directionP = normals(layout.count, seed: 8)
        let directionX = normals(B * ldx, seed: 9)
        func objective(_ t: Float) -> Double {
            let p = parameters.copy()
            for i in 0..<p.count { p[i] += t * directionP[i] }
            let xt = zip(x, directionX).map { $0 + t * $1 }
            var y = [Float](repeating: 0, count: B * m)
            layer.forward(xt, ldx: ldx, batch: B, parameters: p.pointer, into: &y, ldy: m)
            return zip(y, u).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let gradients = FloatBuffer(count: layout.count)
        var dx = [Float](repeating: 0, count: B * ldx)
        layer.backward(x, ldx: ldx, batch: B, dy: u, lddy: m, parameters: parameters.pointer,
                       gradients: gradients.pointer, dx: &dx, lddx: ldx)
        var predicted = 0.0
        for i in 0..<layout.count where i >= layer.weightOffset {
            predicted += Double(gradients[i]) * Double(directionP[i])
        }
        for r in 0..<B { for i in 0..<n { predicted += Double(dx[r * ldx + i]) * Double(directionX[r * ldx + i]) } }
        let h: Float = 0.5
        let numeric = (objective(h) - objective(-h)) / Double(2 * h)
        XCTAssertEqual(predicted, numeric, accuracy: 1e-4 * max(1, abs(numeric)))
    }
}

final class TransposedLinearTests: LinearTests {
    override class var storedTransposed: Bool { true }

    func testEntryKeepsThePublishedShape() {
        let entry = layout.entry("fc.weight")!
        XCTAssertEqual(entry.shape, [m, n])
        XCTAssertTrue(entry.storedTransposed)
    }
}
