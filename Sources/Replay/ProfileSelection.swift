import TraceIO
import WritebackModel

/// Which profile a replay used, and why.
public struct ProfileChoice: Hashable, Sendable {
    public var profile: KernelProfile
    public var reason: String
    /// Divergences per profile tried (only the chosen one when it was not a best fit).
    public var divergences: [KernelProfile: Int]
}

extension KernelProfile {
    /// The profile of a kernel release (`uname -r`): the io_end code of
    /// that version. nil for what does not parse. 6.12 is the 6.12.y that
    /// carries e856f93e0fb2 (6.12.117, recorded in the lab); which 6.12.y
    /// first took it is not pinned here, so an older 6.12.y that converts a
    /// FAILED io_end in its worker shows that as a divergence under
    /// ext4-6.12, while its rules still judge what the trace did. 7.x uses
    /// ext4-6.x (the io_end code of 6.18; docs/lab.md lists where 7.3's
    /// recordings leave it).
    public static func forRelease(_ release: String) -> KernelProfile? {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        let v = (numbers[0], numbers[1])
        switch v {
        case (..<3, _): return v >= (2, 6) ? .ext4_2_6_39 : nil
        case (3, ..<6): return .ext4_2_6_39
        case (3, 6): return .ext4_3_6
        case (3, 7...10): return .ext4_3_7
        case (3, _), (4, _), (5, ..<6): return .ext4_3_11
        case (5, _), (6, ..<12), (6, 13...14): return .ext4_5_10
        case (6, 12): return .ext4_6_12
        case (6, 15): return .ext4_6_15
        default: return .ext4_6_x
        }
    }

    /// Newest first: a tie in best fit goes to the newer kernel.
    static var newestFirst: [KernelProfile] { allCases.reversed() }
}

enum ProfileSelection {
    /// The profiles to replay: the one asked for, the recorded kernel's, or all.
    static func candidates(requested: KernelProfile?, metadata: TraceMetadata) -> (profiles: [KernelProfile], reason: String?) {
        if let requested { return ([requested], "given with --profile") }
        if let release = metadata.kernelRelease, let p = KernelProfile.forRelease(release) {
            return ([p], "recorded kernel release \(release)")
        }
        return (KernelProfile.newestFirst, nil)
    }

    /// How a best fit orders profiles — the same for `check`, its early
    /// pruning and `diff`: the highest share of objects that never diverged
    /// first (a divergence marks one object, so a run of divergences on one
    /// io_end, as next to a lost window, weighs as one object), then fewer
    /// divergences, then the order given (newest first).
    static func ranked<T>(_ items: [T], conformance: (T) -> Double, divergences: (T) -> Int) -> [T] {
        items.enumerated().sorted { a, b in
            (-conformance(a.element), divergences(a.element), a.offset)
                < (-conformance(b.element), divergences(b.element), b.offset)
        }.map(\.element)
    }

    /// `check`'s replays in best-fit order.
    static func ranked(_ replays: [ProfileReplay]) -> [ProfileReplay] {
        ranked(replays, conformance: { $0.conformance.overall }, divergences: \.divergenceCount)
    }

    /// Whether `r` fits the trace as well as `best`: early pruning keeps it.
    static func fitsAsWell(_ r: ProfileReplay, as best: ProfileReplay) -> Bool {
        r.conformance.overall == best.conformance.overall && r.divergenceCount == best.divergenceCount
    }

    /// `check`'s best fit over its replays, and why.
    static func bestFit(_ replays: [ProfileReplay]) -> (KernelProfile, String) {
        let order = ranked(replays)
        func describe(_ r: ProfileReplay) -> String {
            "\(ProfileDiff.percent(r.conformance.overall)) of objects conform, \(r.divergenceCount) divergence(s)"
        }
        var reason = "no kernel release recorded; best fit: " + describe(order[0])
        if order.count > 1 { reason += " (next: \(order[1].profile) with \(describe(order[1])))" }
        return (order[0].profile, reason)
    }
}
