/// The largest array one call allocates from a number a user gives (a
/// sample count, a number of random latents): 2²⁸ Float32 values, 1 GiB.
/// Asking for more is a clear error instead of an allocation that aborts
/// or a product that overflows; draw more in several calls (another seed).
public enum SizeLimit {
    public static let maximumValues = 1 << 28

    /// Throws `Net2NetError.tooLarge` when `count` items of `valuesPerItem`
    /// values each exceed `maximumValues`; `parameter` names the count.
    public static func check(count: Int, valuesPerItem: Int, parameter: String) throws {
        let (total, overflow) = count.multipliedReportingOverflow(by: max(1, valuesPerItem))
        guard !overflow, total <= maximumValues else {
            let most = maximumValues / max(1, valuesPerItem)
            throw Net2NetError.tooLarge("\(parameter) \(count) is too large: \(count) × \(valuesPerItem) values would exceed the limit of \(maximumValues) (1 GiB of float32) per call; the most here is \(most) — make several calls with different seeds")
        }
    }
}
