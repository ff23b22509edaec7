import Experts
import Foundation

/// How samples for a set of free-text prompts are judged: each sample's class
/// under the evaluation classifier against the prompt's expected class.
///
/// `accuracy` is per sample. `majorityCorrect` counts the prompts whose most
/// frequent predicted class is the expected one (ties go to the lower label).
/// `perClass` has one row per class with prompts; `confusions` lists the
/// (expected, predicted) pairs of wrong samples, most frequent first.
public struct PromptReport: Codable, Sendable, Equatable {
    public struct ClassScore: Codable, Sendable, Equatable {
        public var label: Int
        public var name: String
        public var prompts: Int
        public var accuracy: Double
    }

    public struct Confusion: Codable, Sendable, Equatable {
        public var expected: Int
        public var predicted: Int
        /// Wrong samples of this pair, and their share of the expected class's samples.
        public var count: Int
        public var share: Double
    }

    public struct PromptScore: Codable, Sendable, Equatable {
        public var text: String
        public var label: Int
        public var accuracy: Double
        /// The most frequent predicted class.
        public var majority: Int
    }

    /// The prompt set ("held_out" or "paraphrases").
    public var set: String
    public var prompts: Int
    public var samplesPerPrompt: Int
    public var accuracy: Double
    public var majorityCorrect: Int
    public var perClass: [ClassScore]
    public var confusions: [Confusion]
    public var perPrompt: [PromptScore]

    enum CodingKeys: String, CodingKey {
        case set, prompts, samplesPerPrompt = "samples_per_prompt", accuracy, majorityCorrect = "majority_correct"
        case perClass = "per_class", confusions, perPrompt = "per_prompt"
    }

    /// The report for `predicted`, `samplesPerPrompt` classes per prompt, prompt-major.
    public init(set: String, prompts: [HeldOutPrompt], predicted: [Int], samplesPerPrompt: Int) {
        precondition(samplesPerPrompt > 0 && predicted.count == prompts.count * samplesPerPrompt,
                     "\(predicted.count) predictions for \(prompts.count) prompts × \(samplesPerPrompt)")
        let classCount = EvaluationClassifier.classCount
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        var perPrompt: [PromptScore] = []
        for (p, prompt) in prompts.enumerated() {
            var votes = [Int](repeating: 0, count: classCount)
            for s in 0..<samplesPerPrompt {
                let c = predicted[p * samplesPerPrompt + s]
                votes[c] += 1
                confusion[prompt.label][c] += 1
            }
            let majority = votes.indices.max { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }!
            perPrompt.append(PromptScore(text: prompt.text, label: prompt.label,
                                         accuracy: Double(votes[prompt.label]) / Double(samplesPerPrompt), majority: majority))
        }
        var perClass: [ClassScore] = []
        var confusions: [Confusion] = []
        for label in 0..<classCount {
            let total = confusion[label].reduce(0, +)
            guard total > 0 else { continue }
            perClass.append(ClassScore(label: label, name: EvaluationClassifier.classNames[label],
                                       prompts: total / samplesPerPrompt,
                                       accuracy: Double(confusion[label][label]) / Double(total)))
            for (c, count) in confusion[label].enumerated() where c != label && count > 0 {
                confusions.append(Confusion(expected: label, predicted: c, count: count, share: Double(count) / Double(total)))
            }
        }
        confusions.sort { ($0.count, $1.expected, $1.predicted) > ($1.count, $0.expected, $0.predicted) }
        let correct = (0..<classCount).reduce(0) { $0 + confusion[$1][$1] }
        self.set = set
        self.prompts = prompts.count
        self.samplesPerPrompt = samplesPerPrompt
        self.accuracy = Double(correct) / Double(predicted.count)
        self.majorityCorrect = perPrompt.filter { $0.majority == $0.label }.count
        self.perClass = perClass
        self.confusions = confusions
        self.perPrompt = perPrompt
    }
}
