import TraceIO

/// Where the fields one decoder asks for are, in one event layout
/// (`EventView.layout`), by the order in which it asks.
///
/// Why: a typed event's decoder asks for about six fields by name, and
/// finding each by comparing names with every field's was a tenth of a
/// replay's reading thread. A decoder asks for the same names in the same
/// order for every event of a format, so the indices found for the first
/// event serve the rest. Each step keeps the names it answered and is used
/// only for the same names in the same layout, so a decoder that asks
/// differently (a branch taken on a value) is answered by name, never with
/// another field.
struct FieldLookupScript: Sendable {
    /// The `EventView.layout` the indices belong to; nil before the first view.
    let layout: Int?
    private var steps: [Step] = []

    /// How a lookup of some names comes out in this layout.
    enum Resolution: Sendable {
        /// Exactly one of the names is in the layout, at this index.
        case index(Int)
        /// None of the names is in the layout.
        case absent
        /// Several are: which one has a value can differ per event (a
        /// damaged record lacks a string), so each event is asked by name.
        case byName
    }

    private struct Step: Sendable {
        let first: String
        let others: [String]
        let resolution: Resolution
    }

    init(layout: Int?) { self.layout = layout }

    /// How many lookups are known; it grows as decoders ask for more.
    var count: Int { steps.count }

    /// The known outcome of lookup number `step` if it asked for the same names.
    @inline(__always)
    func resolution(at step: Int, _ first: String, _ others: [String]) -> Resolution? {
        // Most lookups have no alternatives: two empty lists need no comparing.
        guard step < steps.count, steps[step].first == first,
              steps[step].others.isEmpty ? others.isEmpty : steps[step].others == others
        else { return nil }
        return steps[step].resolution
    }

    /// Remembers the outcome of lookup number `step`, when it is the next one
    /// (a lookup that differs from a known step is not remembered: the
    /// script stays that of the decoder's usual path).
    mutating func record(_ resolution: Resolution, at step: Int, _ first: String, _ others: [String]) {
        guard step == steps.count else { return }
        steps.append(Step(first: first, others: others, resolution: resolution))
    }

    /// The outcome of looking up `first` or else `others` in `view`'s layout.
    static func resolve(_ view: EventView, _ first: String, _ others: [String]) -> Resolution {
        var found: Int?
        for name in CollectionOfOne(first) + others {
            guard let index = view.fieldIndex(name) else { continue }
            if found != nil { return .byName }
            found = index
        }
        return found.map(Resolution.index) ?? .absent
    }
}
