import KernelEvents
import TraceIO

/// One event as the replay consumes it: where it sits in the stream, who ran
/// it, and its typed form.
struct PreparedEvent: Sendable {
    var stamp: Stamp
    var event: KernelEvent
}

/// The part of a replay that needs only the event itself: decoding into
/// typed events, the trace's reliability (lost windows, clock), task names.
/// It can run on its own thread ahead of the model (`ReplayPipeline`).
struct ReplayFrontEnd: Sendable {
    var decoder = KernelEventDecoder()
    var reliability: TraceReliability
    var comms: [Int32: String] = [:]
    var events = 0
    /// The time span read, for the share of it lost windows cover.
    var coverage = LostCoverage()

    init(reliability: TraceReliability) {
        self.reliability = reliability
    }

    /// The typed event of `record`; nil for a lost-events record, which only
    /// the reliability needs.
    mutating func prepare(_ record: TraceRecord) -> PreparedEvent? {
        coverage.observe(record)
        switch record {
        case .lost(let lost):
            reliability.observe(lost)
            return nil
        case .event(let event):
            let stamp = Stamp(index: events, timestamp: event.timestamp, cpu: event.cpu, pid: event.pid, name: event.name)
            events += 1
            reliability.observe(event)
            if comms[event.pid] == nil || comms[event.pid] == "<...>" { comms[event.pid] = event.comm }
            return PreparedEvent(stamp: stamp, event: decoder.decode(event))
        }
    }
}
