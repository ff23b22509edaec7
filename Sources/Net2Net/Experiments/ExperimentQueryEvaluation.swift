import Datasets
import Experts
import Flow
import Foundation
import TensorCore

/// Evaluation of the experiments whose queries are images (EfficientNet-Lite0 is Φ).
extension ExperimentEvaluation {
    /// Edges-to-image and inpainting on held-out images: NLL of the test pairs;
    /// one sample per test condition for FID-F (against the test images) and for
    /// conditional accuracy (the classifier's class of the sample against the
    /// source image's class); `samplesPerCondition` samples for the first test
    /// image of each class for diversity.
    public func runImageQueries(test: ImageDataset, samplesPerCondition K: Int, seed: UInt64) throws -> ExperimentReport {
        progress("held-out pairs: \(test.count) test images")
        let data = try experts.pairs(test, attributes: nil, seed: seed &+ 7)
        let nll = Evaluation.natsPerDimension(flow: flow, target: data.pairs.target, condition: data.pairs.condition)

        progress("FID-F and conditional accuracy: one sample per test condition")
        let generated = try samples(data.pairs.condition, count: 1, seed: seed &+ 17)
        let (probabilities, generatedFeatures) = try classifier.evaluate(generated)
        let correct = zip(EvaluationClassifier.predictions(probabilities), data.labels).filter { $0 == $1 }.count
        let testFeatures = try classifier.evaluate(test.images).features
        let fid = FrechetDistance.distance(generatedFeatures, testFeatures)

        progress("diversity: \(K) samples for one test image of each class")
        let firstOfClass = (0..<EvaluationClassifier.classCount).compactMap { c in data.labels.firstIndex(of: c) }
        let perImage = try samples(data.pairs.condition.gatherRows(firstOfClass), count: K, seed: seed &+ 13)
        let diversity = ExperimentEvaluation.meanPairwiseDistance(perImage, groups: firstOfClass.count, groupSize: K)
        return ExperimentReport(experiment: experts.kind.rawValue, heldOutNatsPerDim: nll.natsPerDimension,
                                heldOutPairs: nll.count, conditionalAccuracy: Double(correct) / Double(max(data.labels.count, 1)),
                                samplesPerCondition: K, fid: fid,
                                realHalvesFID: FrechetDistance.halves(testFeatures, seed: seed &+ 19),
                                diversity: diversity, realDiversity: ExperimentEvaluation.realDiversity(test, groupSize: K),
                                promptAccuracy: nil, heldOutPrompts: nil, paraphrases: nil, swap: nil,
                                regressor: nil)
    }

    /// GAN translation: `heldOutPairs` freshly sampled pairs for the NLL; `queries`
    /// held-out DCGAN faces (fresh z), each used as a query three ways (the face,
    /// its Sobel edge map, the face with `experts.mask` hidden) with one τ sample
    /// each, scored by EfficientNet cosine similarity against a random DCGAN face
    /// per query; `samplesPerQuery` faces for each of the first ≤10 face queries
    /// for diversity.
    public func runFaceTranslation(queries Q: Int, heldOutPairs P: Int, samplesPerQuery K: Int,
                                   seed: UInt64) throws -> FaceTranslationReport {
        precondition(Q >= 2 && P >= 1 && K >= 2, "need at least 2 queries, 1 held-out pair and 2 samples per query")
        progress("held-out pairs: \(P) fresh samples z ~ N(0, I)")
        let fresh = try experts.facePairs(count: P, seed: seed &+ SeedStreams.heldOutFacePairs).pairs
        let nll = Evaluation.natsPerDimension(flow: flow, target: fresh.target, condition: fresh.condition)
        let prior = Evaluation.priorNatsPerDimension(fresh.target)

        progress("\(Q) query faces and \(Q) random faces")
        var generator = SeededGenerator(seed: seed &+ 31)
        let faces = try experts.decode(generator.normalTensor([Q, FaceGenerator.latentDimension]))
        let random = try experts.decode(generator.normalTensor([Q, FaceGenerator.latentDimension]))
        let faceFeatures = try experts.imageFeatures(faces), randomFeatures = try experts.imageFeatures(random)
        let cosine = ExperimentEvaluation.rowCosines
        let randomFace = cosine(faceFeatures, randomFeatures)
        var reports: [FaceQueryReport] = []
        var wins = 0.0, fid = 0.0
        for kind in FaceQuery.allCases {
            let name = kind.rawValue, query = experts.faceQuery(faces, kind)
            progress("queries: \(name)")
            let queryFeatures = name == "face" ? faceFeatures : try experts.imageFeatures(query)
            let z = try Translation.sample(flow: flow, condition: queryFeatures, count: 1, seed: seed &+ 37)
            let outputFeatures = try experts.imageFeatures(try experts.decode(z))
            let ours = cosine(queryFeatures, outputFeatures), baseline = cosine(queryFeatures, randomFeatures)
            if name == "face" {
                wins = Double(zip(ours, baseline).filter { $0 > $1 }.count) / Double(Q)
                fid = FrechetDistance.distance(outputFeatures, faceFeatures)
            }
            reports.append(FaceQueryReport(query: name, count: Q, similarity: mean(ours), randomSimilarity: mean(baseline),
                                           faceSimilarity: mean(cosine(faceFeatures, outputFeatures)),
                                           randomFaceSimilarity: mean(randomFace)))
        }
        let floor = FrechetDistance.distance(randomFeatures, faceFeatures)

        let groups = min(Q, 10)
        progress("diversity: \(K) samples for each of \(groups) face queries")
        let perQuery = try experts.decode(try Translation.sample(flow: flow, condition: faceFeatures.rows(0..<groups),
                                                                        count: K, seed: seed &+ 41))
        let randomGroups = try experts.decode(generator.normalTensor([groups * K, FaceGenerator.latentDimension]))
        return FaceTranslationReport(
            experiment: experts.kind.rawValue, heldOutNatsPerDim: nll.natsPerDimension, heldOutPairs: nll.count,
            priorNatsPerDim: prior, gainOverPriorNatsPerDim: prior - nll.natsPerDimension,
            faceQueriesNearerThanRandom: wins, fidEfficientNet: fid, randomFacesFIDEfficientNet: floor,
            diversity: ExperimentEvaluation.meanPairwiseDistance(perQuery, groups: groups, groupSize: K),
            randomFacesDiversity: ExperimentEvaluation.meanPairwiseDistance(randomGroups, groups: groups, groupSize: K),
            samplesPerQuery: K, faceQueries: reports)
    }

    /// cos(aᵢ, bᵢ) for each row pair of `a`, `b` `[N, D]`.
    static func rowCosines(_ a: Tensor, _ b: Tensor) -> [Double] {
        precondition(a.shape == b.shape && a.rank == 2)
        let D = a.shape[1]
        return (0..<a.shape[0]).map { i in
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in 0..<D {
                let x = Double(a.scalars[i * D + j]), y = Double(b.scalars[i * D + j])
                dot += x * y; na += x * x; nb += y * y
            }
            return dot / max((na * nb).squareRoot(), 1e-12)
        }
    }
}

private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
