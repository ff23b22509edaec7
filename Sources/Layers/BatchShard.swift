/// This process's rows of a batch that is split over several processes
/// (data-parallel training). Statistics of the batch (BatchNorm's mean and
/// variance, ActNorm's initialisation, the mean loss) are then sums over
/// every process's rows, formed by `sumOverProcesses`, so each process
/// computes what one process would compute on the whole batch, up to the
/// order of floating-point additions.
public struct BatchShard {
    /// Rows of the whole batch, over all processes.
    public let globalBatch: Int
    /// Replaces each value with its sum over all processes (every process
    /// calls it at the same point with the same count).
    public let sumOverProcesses: (UnsafeMutableBufferPointer<Double>) -> Void

    public init(globalBatch: Int, sumOverProcesses: @escaping (UnsafeMutableBufferPointer<Double>) -> Void) {
        self.globalBatch = globalBatch
        self.sumOverProcesses = sumOverProcesses
    }
}
