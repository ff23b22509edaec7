import ArgumentParser
import Flow
import Foundation
import MessagePassing
import Net2Net
import TensorCore

extension Bench {
    /// The distributed suite's cases: the flow and its global batch.
    static let distributedCases: [(name: String, configuration: FlowConfiguration, batch: Int)] = [
        ("reference-b16", FlowBenchmark.reference, 16),
        ("small-b128", FlowBenchmark.small, 128),
    ]

    /// `--suite distributed`: data-parallel steps on this MPI job's processes
    /// (one process when not started by mpirun); rank 0 prints.
    func runDistributed() throws {
        let all = Bench.distributedCases
        let selected = try selectedCases(all.map(\.name))
        let bucketSizes = try gradientBucketElements()
        try withCommunicator(distributed: Communicator.isLaunchedByMPI) { communicator in
            if communicator.isRoot && !json {
                for line in MachineDescription.current().lines { print(line) }
                print("processes: \(communicator.size)\(communicator.usesMPI ? " (\(Communicator.libraryPath))" : ", no MPI")")
                print("case            procs  batch  bucket MiB  calls  step (s)  allreduce after backward (s)  allreduce alone (s)  gradient MB  ring MB/step  bus GB/s  samples/s")
            }
            var results: [DataParallelBenchmark.Result] = []
            for (name, configuration, batch) in all where selected.contains(name) {
                let variants = try DataParallelBenchmark.run(
                    name: name, configuration: configuration, globalBatch: batch, communicator: communicator,
                    gradientBucketElements: bucketSizes, steps: max(1, minIterations)) { if communicator.isRoot { note($0) } }
                results += variants
                guard communicator.isRoot && !json else { continue }
                for result in variants {
                    print(name.padding(toLength: 15, withPad: " ", startingAt: 0) + String(format: " %5d  %5d  %10.2f  %5d  %8.3f  %28.3f  %19.3f  %11.1f  %12.1f  %8.2f  %9.1f",
                                 result.processes, result.globalBatch, Double(result.gradientBucketBytes) / 1048576,
                                 result.bucketsPerStep, result.secondsPerStep,
                                 result.allreduceSecondsPerStep, result.allreduceAloneSeconds,
                                 Double(result.gradientBytes) / 1e6, result.ringBytesPerStep / 1e6,
                                 result.busBandwidthGBps, result.samplesPerSecond))
                }
            }
            if communicator.isRoot && json {
                let rows = try JSONSerialization.jsonObject(with: JSONEncoder().encode(results))
                try printBenchJSON(["suite": "distributed", "results": rows])
            }
        }
    }

    /// `--gradient-buckets` (MiB) as float32 element counts.
    func gradientBucketElements() throws -> [Int] {
        let sizes = gradientBuckets.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 8192 }) else {
            throw ValidationError("--gradient-buckets: comma-separated sizes in MiB from 0 to 8192, got '\(gradientBuckets)'")
        }
        return sizes.map { Int(($0! * 1048576 / 4).rounded(.up)) }
    }

    /// The names `--cases` selects among `names` (all by default); an unknown one is an error.
    func selectedCases(_ names: [String]) throws -> Set<String> {
        guard let cases else { return Set(names) }
        let chosen = cases.split(separator: ",").map(String.init)
        if let unknown = chosen.first(where: { !names.contains($0) }) {
            throw ValidationError("unknown case '\(unknown)'; cases: \(names.joined(separator: ", "))")
        }
        return Set(chosen)
    }
}
