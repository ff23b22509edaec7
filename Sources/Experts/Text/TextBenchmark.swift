import Foundation
import TensorCore

/// Sentence-encoder throughput on a fixed set of caption-length sentences
/// (8–15 words), the workload of the text expert. The CLI's `bench` calls it;
/// `bench/minilm_baseline.py` measures sentence-transformers on the same list.
public enum TextBenchmark {
    /// One measured case.
    public struct Result: Sendable, Equatable {
        /// `"embed-b1"` or `"embed-b32"`.
        public let name: String
        public let batchSize: Int
        public let sentencesPerSecond: Double
    }

    /// Times `embed` (text in, embeddings out: tokenisation included, as
    /// in real use and as the baseline measures) at batch 1 and 32 over
    /// `sentences`, after one warm-up pass, for at least `minimumSeconds` per case.
    public static func run(embed: ([String]) -> Tensor,
                           sentences: [String] = TextBenchmark.sentences,
                           minimumSeconds: Double = 2) -> [Result] {
        [1, 32].map { batchSize in
            let batches = stride(from: 0, to: sentences.count, by: batchSize).map {
                Array(sentences[$0..<min(sentences.count, $0 + batchSize)])
            }
            for batch in batches { _ = embed(batch) }  // warm-up: workspaces, caches
            var embedded = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                for batch in batches {
                    _ = embed(batch)
                    embedded += batch.count
                }
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < minimumSeconds
            return Result(name: "embed-b\(batchSize)", batchSize: batchSize,
                          sentencesPerSecond: Double(embedded) / elapsed)
        }
    }

    /// 64 caption-length sentences (8–15 words); the same list is in
    /// bench/minilm_baseline.py.
    public static let sentences = [
        "A man is riding a bicycle down a busy city street.",
        "Two young children are playing with a red ball in the park.",
        "A woman in a blue dress is walking her dog on the beach.",
        "A group of people are sitting around a table eating dinner.",
        "An old man is reading a newspaper on a wooden bench.",
        "A brown dog is jumping over a fallen log in the forest.",
        "A little girl is blowing bubbles in her backyard on a sunny day.",
        "Several surfers are waiting for waves in the cold ocean.",
        "A chef is preparing a large pot of soup in a restaurant kitchen.",
        "A cat is sleeping on top of a stack of books.",
        "Two men are playing chess in a crowded public square.",
        "A train is crossing a bridge over a wide river at sunset.",
        "A skateboarder performs a trick on a ramp at the skate park.",
        "A young woman is taking a photograph of the mountains.",
        "People are waiting at the bus stop in the pouring rain.",
        "A black and white cow is grazing in a green field.",
        "A boy in a yellow shirt is flying a kite on a hill.",
        "A crowd watches fireworks explode over the city harbor at night.",
        "A woman is slicing tomatoes on a wooden cutting board.",
        "An airplane is flying low over a row of houses.",
        "Three friends are laughing together on a park bench.",
        "A firefighter is spraying water on a burning building.",
        "A baby is sitting in a high chair eating mashed bananas.",
        "A man in a suit is talking on his phone while walking.",
        "Horses are running across a dusty field near the mountains.",
        "A small boat is floating on a calm lake in the morning.",
        "A street musician is playing the violin for passing tourists.",
        "A teenager is doing homework at a desk covered with papers.",
        "Two dogs are pulling on opposite ends of a rope toy.",
        "A woman is jogging along a path next to the river.",
        "A colorful hot air balloon rises above the open countryside.",
        "A waiter is carrying a tray of drinks through a busy bar.",
        "A mother is reading a bedtime story to her two children.",
        "A soccer player kicks the ball toward the goal during a match.",
        "A large truck is parked in front of a grocery store.",
        "A man is fixing the engine of an old red car.",
        "Children in uniforms are lining up outside the school building.",
        "A pizza with mushrooms and peppers sits on a kitchen counter.",
        "A snowboarder is racing down a steep mountain slope.",
        "An elderly couple is holding hands while walking in the garden.",
        "A bird is perched on a branch covered in fresh snow.",
        "A group of cyclists is riding along a winding country road.",
        "A girl with a red umbrella is crossing the street.",
        "A man is painting a mural on the side of a building.",
        "A farmer drives a tractor through a field of golden wheat.",
        "Two women are shopping for fruit at an outdoor market.",
        "A dog is catching a frisbee in mid air at the park.",
        "A student is giving a presentation in front of the class.",
        "The city skyline is reflected in the still water of the bay.",
        "A baseball player swings his bat at a fast pitch.",
        "A young boy is brushing his teeth in front of the mirror.",
        "A woman is knitting a scarf while sitting by the fireplace.",
        "Tourists are taking pictures in front of an ancient stone temple.",
        "A police officer is directing traffic at a busy intersection.",
        "A man carries a surfboard across the hot sand toward the waves.",
        "A plate of pancakes with berries and syrup on a table.",
        "A musician is tuning his guitar before the concert begins.",
        "A family is having a picnic under a large oak tree.",
        "A kitten is playing with a ball of yarn on the carpet.",
        "A construction worker is climbing a ladder with a bucket of tools.",
        "A woman is riding a horse along a trail in the woods.",
        "A delivery man is dropping off packages at an apartment door.",
        "Two kids are building a sandcastle near the edge of the water.",
        "A bus full of passengers drives through the snowy streets.",
    ]
}
