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
    /// that version (DOMAIN.md §5). nil for what does not parse.
    public static func forRelease(_ release: String) -> KernelProfile? {
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        let v = (numbers[0], numbers[1])
        switch v {
        case (..<3, _): return v >= (2, 6) ? .ext4_2_6_39 : nil
        case (3, ..<6): return .ext4_2_6_39
        case (3, 6): return .ext4_3_6
        case (3, 7...10): return .ext4_3_7
        case (3, _), (4, _), (5, _): return .ext4_3_11
        case (6, ..<15): return .ext4_3_11
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

    /// Fewest divergences wins; ties go to the newer profile.
    static func bestFit(_ counts: [(KernelProfile, Int)]) -> (KernelProfile, String) {
        let sorted = counts.enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }
        let best = sorted[0].element
        var reason = "no kernel release recorded; best fit: \(best.1) divergence(s)"
        if sorted.count > 1 {
            let next = sorted[1].element
            reason += " (next: \(next.0) with \(next.1))"
        }
        return (best.0, reason)
    }
}
