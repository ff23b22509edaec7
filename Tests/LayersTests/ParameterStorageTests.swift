import XCTest
import TestSupport
import Layers

final class ParameterStorageTests: XCTestCase {
    func testLayoutAlignsUnlessPacked() {
        var layout = ParameterLayout()
        XCTAssertEqual(layout.add("a", shape: [3]), 0)
        XCTAssertEqual(layout.add("b", shape: [2, 5]), 16)
        XCTAssertEqual(layout.add("c", shape: [4], packed: true), 26)
        XCTAssertEqual(layout.add("d", shape: []), 32)
        XCTAssertEqual(layout.count, 33)
        XCTAssertEqual(layout.entries.map(\.name), ["a", "b", "c", "d"])
        XCTAssertEqual(layout.entry("b")?.count, 10)
        XCTAssertEqual(layout.entry("d")?.count, 1)
        XCTAssertNil(layout.entry("e"))
    }

    func testFloatBuffer() {
        let buffer = FloatBuffer(count: 37)
        XCTAssertEqual(Int(bitPattern: buffer.pointer) % 64, 0)
        XCTAssertEqual(buffer.array(), [Float](repeating: 0, count: 37))
        buffer.assign([1, 2, 3], at: 34)
        let copy = buffer.copy()
        buffer[35] = 7
        XCTAssertEqual(copy.array(33..<37), [0, 1, 2, 3])
        XCTAssertEqual(buffer.array(33..<37), [0, 1, 7, 3])
        buffer.zero()
        XCTAssertEqual(buffer.array(), [Float](repeating: 0, count: 37))
        XCTAssertEqual(FloatBuffer([4, 5]).array(), [4, 5])
        XCTAssertEqual(FloatBuffer(count: 0).array(), [])
    }
}
