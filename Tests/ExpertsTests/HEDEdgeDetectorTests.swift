import Experts
import Formats
import Foundation
import TensorCore
import XCTest

/// HED against an independent float64 PyTorch forward pass from the same
/// `.weights.h5` (scripts/fixtures/make_hed.py), on two 64×64 photo crops
/// and one 45×37 crop (odd sizes: "same" pooling of a lone row, resizing by
/// non-integer factors).
final class HEDEdgeDetectorTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func model() throws -> HEDEdgeDetector {
        try HEDEdgeDetector(weights: try TestAssets.directory("hed").appendingPathComponent(HEDEdgeDetector.weightsFile))
    }

    func images(_ name: String) throws -> (pixels: [UInt8], shape: [Int]) {
        let array = try NPY.read(TestAssets.fixture(name))
        guard case .uint8(let bytes) = array.storage else { throw ExpertError.badInput("\(name) is not uint8") }
        return (bytes, array.shape)
    }

    func maximumError(_ ours: Tensor, _ reference: Tensor) -> Float {
        XCTAssertEqual(ours.shape, reference.shape)
        return zip(ours.scalars, reference.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    }

    func testEdgesMatchTheReference() throws {
        let hed = try model()
        let (pixels, shape) = try images("hed_images.npy")
        XCTAssertEqual(shape, [2, 64, 64, 3])
        let (edges, sides) = try hed.edgeMaps(pixels: pixels, count: 2, height: 64, width: 64)
        let edgeError = maximumError(edges, try NPY.readFloat32(TestAssets.fixture("hed_edges.npy")))
        let reference = try NPY.readFloat32(TestAssets.fixture("hed_sides.npy"))
        let scale = reference.scalars.reduce(Float(0)) { max($0, abs($1)) }
        let sideError = maximumError(sides, reference)
        print("HED 64×64: max |edges − reference| = \(edgeError), side logits \(sideError) (scale \(scale))")
        XCTAssertLessThanOrEqual(edgeError, HEDEdgeDetectorTests.tolerance)
        XCTAssertLessThanOrEqual(sideError, HEDEdgeDetectorTests.tolerance * scale)
        XCTAssertTrue(edges.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })

        // One image alone, or one image per pass, gives the same maps as the batch in one pass.
        let single = try hed.edges(pixels: Array(pixels[(64 * 64 * 3)...]), count: 1, height: 64, width: 64)
        XCTAssertLessThanOrEqual(maximumError(single, edges.rows(1..<2)), 1e-6)
        hed.pixelsPerPass = 1
        XCTAssertLessThanOrEqual(maximumError(try hed.edges(pixels: pixels, count: 2, height: 64, width: 64), edges), 1e-6)
    }

    func testOddSizedImageMatchesTheReference() throws {
        let (pixels, shape) = try images("hed_odd_image.npy")
        XCTAssertEqual(shape, [1, 45, 37, 3])
        let edges = try model().edges(pixels: pixels, count: 1, height: 45, width: 37)
        let error = maximumError(edges, try NPY.readFloat32(TestAssets.fixture("hed_odd_edges.npy")))
        print("HED 45×37: max |edges − reference| = \(error)")
        XCTAssertLessThanOrEqual(error, HEDEdgeDetectorTests.tolerance)
    }

    func testBadInputAndBadWeightsAreClear() throws {
        let hed = try model()
        XCTAssertThrowsError(try hed.edges(pixels: [0, 0, 0], count: 1, height: 2, width: 2)) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("HED takes RGB images [N, H, W, 3]"))
        }
        XCTAssertEqual(try hed.edges(pixels: [], count: 0, height: 8, width: 8).shape, [0, 1, 8, 8])
        // A weights file that is not HDF5 names the file.
        let notHDF5 = TestAssets.fixture("hed_images.npy")
        XCTAssertThrowsError(try HEDEdgeDetector(weights: notHDF5)) { error in
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssertTrue(message.hasPrefix(notHDF5.path + ": not a usable HED weights file"), message)
        }
    }
}
