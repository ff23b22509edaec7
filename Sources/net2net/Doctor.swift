import ArgumentParser
import Experts
import Foundation
import TensorCore

/// `net2net doctor`: what this machine gives the kernels, and the asset cache.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the CPU, its features, the kernels' instruction set, the BLAS and its kernel, and the asset cache.",
        discussion: """
        Every benchmark number depends on these; `net2net bench` prints the same lines above its table.

        Environment:
          NET2NET_ISA=avx512|avx2|baseline   lower the elementwise kernels' instruction set (emulates older CPUs)
          NET2NET_BLAS=FILE                  load this BLAS library instead of the system OpenBLAS
          NET2NET_BLAS_CORETYPE=NAME         force an OpenBLAS kernel (e.g. Haswell, SkylakeX)
          NET2NET_GEMM=blas                  leave small-batch linear layers to BLAS too (ours read the
                                             weights in place: "batch gemm" below)

        Example:
          net2net doctor
          OPENBLAS_CORETYPE=Prescott net2net doctor --json
        """)

    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let machine = MachineDescription.current()
        let store = AssetStore()
        var assets: [String: String] = [:]
        for asset in AssetDescription.registry {
            switch store.status(asset) {
            case .cached: assets[asset.name] = "cached"
            case .overridden: assets[asset.name] = "overridden"
            case .missing: assets[asset.name] = "missing"
            case .invalid(let reason): assets[asset.name] = "invalid: \(reason)"
            }
        }
        if json {
            var object = machine.dictionary
            object["asset_home"] = store.home.path
            object["assets"] = assets
            try printJSON(object)
            return
        }
        for line in machine.lines { print(line) }
        print("asset cache: \(store.home.path)")
        for name in assets.keys.sorted() { print("  \(name): \(assets[name]!)") }
    }
}
