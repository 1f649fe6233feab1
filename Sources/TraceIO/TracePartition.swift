/// A contiguous part of one CPU's record stream, for readers that split a
/// trace to decode it on several threads. The parts of one CPU, in `index`
/// order, are that CPU's whole stream.
public struct TracePartition: Hashable, Sendable, CustomStringConvertible {
    public let cpu: Int
    /// The position of this part within its CPU's stream (0, 1, …).
    public let index: Int

    public init(cpu: Int, index: Int) {
        self.cpu = cpu
        self.index = index
    }

    public var description: String { "cpu \(cpu) part \(index)" }
}
