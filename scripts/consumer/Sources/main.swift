// Loads a shipped τ and translates samples between two conditions and back:
// τ(τ⁻¹(z | a) | b) then back to a must return z (the flow is invertible).
import Foundation
import Net2Net
import TensorCore

guard CommandLine.arguments.count == 2 else {
    print("usage: consumer CHECKPOINT_DIR")
    exit(2)
}
do {
    let (flow, _, _) = try FlowCheckpoint.load(URL(fileURLWithPath: CommandLine.arguments[1]))
    let conditionDimension = flow.configuration.conditionDimension
    var generator = SeededGenerator(seed: 2020)
    func conditions(_ rows: Int) -> Tensor {
        Tensor(shape: [rows, conditionDimension],
               scalars: (0..<rows * conditionDimension).map { _ in Float.random(in: -0.1...0.1, using: &generator) })
    }
    let a = conditions(4), b = conditions(4)
    let z = try Translation.sample(flow: flow, condition: a, count: 1, seed: 7)
    let moved = try Translation.translate(flow: flow, target: z, from: a, to: b)
    let back = try Translation.translate(flow: flow, target: moved, from: b, to: a)
    let error = zip(back.scalars, z.scalars).map { abs($0 - $1) }.max() ?? .infinity
    let change = zip(moved.scalars, z.scalars).map { abs($0 - $1) }.max() ?? 0
    print("translated \(z.shape[0]) samples of dimension \(z.shape[1]); moved by up to \(change), round trip error \(error)")
    guard error < 1e-3, change > 1e-3, moved.scalars.allSatisfy(\.isFinite) else {
        print("error: the round trip does not hold")
        exit(1)
    }
    print("ok")
} catch {
    print("error: \(error)")
    exit(1)
}
