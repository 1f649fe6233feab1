/// The preset's and `-e`'s selectors, checked against the events this kernel has.
struct EventResolution {
    /// Concrete `system/event` pairs to enable, in selection order, no duplicates.
    private(set) var events: [(system: String, event: String)] = []
    /// Preset selections this kernel lacks: a warning, the rest is recorded.
    private(set) var missing: [String] = []

    /// `available(system)` lists the events of a system, empty if it does not
    /// exist. A `-e` selection this kernel lacks is an error: the user asked for it.
    init(preset: [EventSelector], extra: [EventSelector], available: (String) -> [String]) throws {
        var cache: [String: [String]] = [:]
        func matches(_ selector: EventSelector) -> [String] {
            let all = cache[selector.system] ?? available(selector.system)
            cache[selector.system] = all
            guard let event = selector.event else { return all }
            return all.contains(event) ? [event] : []
        }
        let unknown = extra.filter { matches($0).isEmpty }.map(\.description)
        if !unknown.isEmpty { throw RecordError.unknownEvents(unknown) }
        var seen = Set<String>()
        for selector in preset + extra {
            let chosen = matches(selector)
            if chosen.isEmpty { missing.append(selector.description) }
            for e in chosen where seen.insert(selector.system + "/" + e).inserted {
                events.append((selector.system, e))
            }
        }
    }
}
