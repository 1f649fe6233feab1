import TraceIO

/// How a `FieldReader` reads an `EventView`: by the indices of its layout's
/// `FieldLookupScript` where it has one, else by name. The decoder keeps it
/// (and the script) in place for the call, so a lookup copies neither.
struct ViewReading {
    let view: EventView
    /// The script of the view's layout; nil for a view without a layout.
    let script: UnsafeMutablePointer<FieldLookupScript>?
    /// How many lookups this event made.
    private var step = 0

    /// Starts reading `view` through `script` (which must outlive this).
    init(view: EventView, script: UnsafeMutablePointer<FieldLookupScript>?) {
        self.view = view
        self.script = script
    }

    /// The value of the first of the names that the event has; nil if none.
    mutating func lookup(_ first: String, _ others: [String]) -> FieldValue? {
        guard let script else { return byName(first, others) }
        let resolution: FieldLookupScript.Resolution
        if let known = script.pointee.resolution(at: step, first, others) {
            resolution = known
        } else {
            resolution = FieldLookupScript.resolve(view, first, others)
            script.pointee.record(resolution, at: step, first, others)
        }
        step += 1
        switch resolution {
        case .index(let index): return view.value(at: index)
        case .absent: return nil
        case .byName: return byName(first, others)
        }
    }

    /// The first of the names the view has a value for, found by name.
    private func byName(_ first: String, _ others: [String]) -> FieldValue? {
        if let v = view.value(named: first) { return v }
        for name in others {
            if let v = view.value(named: name) { return v }
        }
        return nil
    }
}
