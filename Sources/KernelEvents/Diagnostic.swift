/// A problem with the input that does not stop decoding: an unknown event
/// format, a missing field. Reported once per event and problem, with a count.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var event: String
    public var message: String
    /// How many events had this problem.
    public var count: Int

    public init(event: String, message: String, count: Int = 1) {
        self.event = event
        self.message = message
        self.count = count
    }

    public var description: String {
        "\(event): \(message)" + (count > 1 ? " (\(count) events)" : "")
    }
}

/// Collects diagnostics, one entry per (event, message), in first-seen order.
public struct DiagnosticLog: Sendable {
    private var order: [Key] = []
    private var counts: [Key: Int] = [:]

    private struct Key: Hashable, Sendable {
        var event: String
        var message: String
    }

    public init() {}

    public mutating func warn(_ event: String, _ message: String) {
        let key = Key(event: event, message: message)
        if let n = counts[key] {
            counts[key] = n + 1
        } else {
            counts[key] = 1
            order.append(key)
        }
    }

    public var entries: [Diagnostic] {
        order.map { Diagnostic(event: $0.event, message: $0.message, count: counts[$0] ?? 0) }
    }

    public var isEmpty: Bool { order.isEmpty }
}
