import TraceIO

/// The rule ids of DOMAIN.md §4; the raw values are part of the interface.
public enum RuleID: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case fsyncBeforeConversion = "fsync-before-conversion"
    case staleReadBeforeConversion = "stale-read-before-conversion"
    case truncateDuringConversion = "truncate-during-conversion"
    case evictWithPendingIO = "evict-with-pending-io"
    case writeWhileFrozen = "write-while-frozen"
    case unstablePageWrite = "unstable-page-write"
    case conversionAfterIOError = "conversion-after-io-error"

    public var description: String { rawValue }
}

/// One broken invariant: which rule, on which objects, by which transition.
public struct RuleViolation: Hashable, Sendable, CustomStringConvertible {
    public var rule: RuleID
    public var dev: DeviceNumber
    public var inode: InodeRef?
    public var range: BlockRange?
    public var ioEnd: IoEndRef?
    public var folio: FolioRef?
    /// The transition that broke it.
    public var transition: Transition
    /// One sentence: what state the objects were in.
    public var detail: String

    public init(rule: RuleID, dev: DeviceNumber, inode: InodeRef? = nil, range: BlockRange? = nil,
                ioEnd: IoEndRef? = nil, folio: FolioRef? = nil, transition: Transition, detail: String) {
        self.rule = rule
        self.dev = dev
        self.inode = inode
        self.range = range
        self.ioEnd = ioEnd
        self.folio = folio
        self.transition = transition
        self.detail = detail
    }

    public var description: String {
        var s = "\(rule) on \(inode.map { "\($0)" } ?? "\(dev)")"
        if let range { s += " blocks \(range)" }
        return s + " at \(transition.kernelFunction): \(detail)"
    }
}
