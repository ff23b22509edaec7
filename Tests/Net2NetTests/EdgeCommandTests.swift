import XCTest
import Experts
import Formats
import Net2Net
import TensorCore

/// `net2net encode --expert hed`: the fixture images in, the reference edge
/// maps out (scripts/fixtures/make_hed.py), as .npy and as a PNG grid; mixed
/// sizes, wrong outputs and non-images refused with the file named.
final class EdgeCommandTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ExpertsTests/Fixtures")

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    func testEncodeEdges() throws {
        try CLI.requireExecutable()
        let d = temporaryDirectory(name)
        let result = try CLI.run(["encode", "--expert", "hed", "--input", fixture("hed_images.npy"), "--output", "e.npy",
                                  "--batch-size", "1"], in: d)
        if result.status != 0 && result.stderr.contains("could not fetch asset") {
            throw XCTSkip("the HED asset cannot be fetched here: \(result.stderr)")
        }
        XCTAssertEqual(result.status, 0, result.stderr)
        let edges = try NPY.readFloat32(d.appendingPathComponent("e.npy"))
        let reference = try NPY.readFloat32(URL(fileURLWithPath: fixture("hed_edges.npy")))
        XCTAssertEqual(edges.shape, [2, 1, 64, 64])
        XCTAssertLessThanOrEqual(zip(edges.scalars, reference.scalars).map { abs($0 - $1) }.max()!, 1e-4)

        // Mixed sizes resized to one, as a PNG grid: 3 maps of 20×20, 2-pixel borders.
        let grid = try CLI.run(["encode", "--expert", "hed", "--input", fixture("hed_images.npy"),
                                "--input", fixture("hed_odd_image.npy"), "--size", "20", "--output", "e.png"], in: d)
        XCTAssertEqual(grid.status, 0, grid.stderr)
        let png = try PNGImage.read(d.appendingPathComponent("e.png"))
        XCTAssertEqual([png.width, png.height], [3 * 20 + 4 * 2, 20 + 2 * 2])

        assertFails(try CLI.run(["encode", "--expert", "hed", "--input", fixture("hed_images.npy"),
                                 "--input", fixture("hed_odd_image.npy"), "--output", "e.npy"], in: d),
                    mentioning: ["hed_odd_image.npy[0]", "45×37 differs from the first image's 64×64"])
        assertFails(try CLI.run(["encode", "--expert", "hed", "--input", fixture("hed_images.npy"), "--output", "e.txt"], in: d),
                    mentioning: ["e.txt", ".npy or .png"])
        assertFails(try CLI.run(["encode", "--expert", "hed", "--input", fixture("hed_edges.npy"), "--output", "e.npy"], in: d),
                    mentioning: ["hed_edges.npy", "uint8 array [N, H, W, 3]"])
        assertFails(try CLI.run(["encode", "--expert", "hed", "--input", "missing.png", "--output", "e.npy"], in: d),
                    mentioning: ["missing.png", "no such file"])
    }

    func testInspectListsHDF5Datasets() throws {
        try CLI.requireExecutable()
        let d = temporaryDirectory(name)
        let formats = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FormatsTests/Fixtures/hdf5")
        let listed = try CLI.run(["inspect", formats.appendingPathComponent("weights.h5").path], in: d, threads: false)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("block1/layers/conv2d/vars/0\tfloat32\t[3, 3, 2, 4]\t72"), listed.stdout)
        assertFails(try CLI.run(["inspect", formats.appendingPathComponent("chunked.h5").path], in: d, threads: false),
                    mentioning: ["chunked.h5", "chunked storage"])
    }
}
