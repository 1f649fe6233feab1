import KernelEvents
import TraceIO

/// Why a trace cannot host a case (the message names the obstacle).
struct Unhostable: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// One edit of a source trace in progress: the working copy, which CPU is
/// busy when, and the deciding events tagged so that their final indices
/// are known after `finish()`.
struct Scenario {
    let index: TraceIndex
    let factory: EventFactory
    var trace: MutableTrace
    var schedule: CPUSchedule
    private var nextPid: Int32

    /// How far apart two events of different CPUs must be for any trace
    /// clock to order them (a per-CPU clock's skew is far below it). A
    /// verdict rests on every ordering its rule needs, not only on the
    /// deciding pair: an event the replay needs before the deciding one (the
    /// completion of the data before an fsync returns or a reader refills
    /// the folio) is placed at least this far before it, where no
    /// happens-before chain joins them.
    static let anyClockGap: UInt64 = 1_200_000

    static let firstDeciding = "deciding.first"
    static let secondDeciding = "deciding.second"

    /// The device the case is about. A template may come from an event of
    /// another device of the recording (fstests' test and scratch devices):
    /// every injected event that names a device names this one.
    let device: DeviceNumber

    init(_ index: TraceIndex, factory: EventFactory, device: DeviceNumber) {
        self.index = index
        self.factory = factory
        self.device = device
        trace = MutableTrace(index)
        schedule = CPUSchedule(index)
        nextPid = index.maxPid + 1
    }

    /// The trace's time resolution (1 µs for text): the step between consecutive injected events.
    var step: UInt64 { index.source.resolution == 1 ? 1000 : index.source.resolution }

    func aligned(_ t: UInt64) -> UInt64 { trace.aligned(t) }

    /// A task of its own for an injected process (a new pid, never used in the trace).
    mutating func newTask(_ comm: String, cpu: Int) -> Actor {
        defer { nextPid += 1 }
        return Actor(pid: nextPid, comm: comm, cpu: cpu)
    }

    /// The last source event before `t` (the anchor that orders ties at `t`).
    func anchor(before t: UInt64) -> Int {
        max(0, index.firstIndex(atOrAfter: t) - 1)
    }

    /// Makes a recorded-event copy.
    func make(_ name: String, at t: UInt64, by actor: Actor, _ changes: [FieldChange] = [],
              where accept: (TraceEvent) -> Bool = { _ in true }) throws -> TraceEvent {
        var e = try factory.make(name, at: t, by: actor, changes, where: accept)
        guard let named = e.device, named != device else { return e }
        var moved: [FieldChange] = []
        for f in e.fields.storage {
            switch (f.name, f.value) {
            case ("dev", .device), ("s_dev", .device): moved.append(.uint(f.name, device.kernelEncoded))
            case ("name", .string(let bdi)) where DeviceNumber(bdi) != nil: moved.append(.text("name", "\(device.major):\(device.minor)"))
            default: break
            }
        }
        EventFactory.apply(moved, to: &e)
        return e
    }

    /// Inserts events of one task, `step` apart from `t`, on a CPU the
    /// caller found quiet, and reserves that CPU for them.
    mutating func place(_ events: [TraceEvent], tags: [Int: String] = [:]) {
        guard let first = events.first, let last = events.last else { return }
        trace.insert(events, after: anchor(before: first.timestamp + 1), tags: tags)
        schedule.reserve(cpu: first.cpu, from: first.timestamp, to: last.timestamp, pid: first.pid)
    }

    /// `events` of one task on `cpu` from `t` on, each at least `step`
    /// after the previous and at least `step` away from any other task's
    /// event on that CPU (the task is preempted while others run). Throws
    /// when that takes longer than `within`.
    func spread(_ events: [TraceEvent], cpu: Int, from t: UInt64, within: UInt64 = 300_000) throws -> [TraceEvent] {
        guard let pid = events.first?.pid else { return [] }
        var out: [TraceEvent] = []
        var time = aligned(t)
        for var e in events {
            while !schedule.isQuiet(cpu: cpu, from: time - min(time, step - 1), to: time + step - 1, for: pid)
                    || !schedule.isFree(task: pid, from: time, to: time) {
                time += step
                guard time <= t + within else { throw Unhostable("CPU \(cpu) stays busy from \(t) ns on") }
            }
            e.timestamp = time
            e.cpu = cpu
            out.append(e)
            time += step
        }
        return out
    }

    /// Moves a source event to time `t` (and optionally another CPU or task).
    mutating func move(_ position: Int, to t: UInt64, cpu: Int? = nil, actor: Actor? = nil) {
        schedule.vacated.insert(position)
        trace.update(position, after: anchor(before: t + 1)) { e in
            e.timestamp = t
            if let cpu { e.cpu = cpu }
            if let actor { e.pid = actor.pid; e.comm = actor.comm; e.cpu = actor.cpu }
        }
    }

    mutating func remove(_ position: Int) {
        schedule.vacated.insert(position)
        trace.remove(position)
    }

    /// The replayable stream and the final index of every tag.
    func finish() -> (records: [TraceRecord], tags: [String: Int]) { trace.build() }
}

extension ConversionSite {
    /// The run's events other than `sb_clear_inode_writeback`, in order.
    func runWithoutClear(_ index: TraceIndex) -> [Int] {
        run.filter { p in
            if case .writeback(.clearInodeWriteback) = index.typed[p] { return false }
            return true
        }
    }

    /// The run's conversion events of every extent it converts (reserved
    /// handle, CONVERT mappings, es W, handle stats, inode dirtying).
    func conversionWork(_ index: TraceIndex) -> [Int] {
        run.filter { p in
            switch index.typed[p] {
            case .workqueue, .writeback(.clearInodeWriteback): return false
            default: return true
            }
        }
    }
}
