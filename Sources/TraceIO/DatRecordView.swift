/// The trace.dat side of an `EventView`: a record's payload, its format, and
/// the decoder that opened it (whose caches turn addresses into symbols and
/// pids into task names). Holds no references, so that handing a view over
/// costs no reference counting; valid while the record and the decoder are.
struct DatRecordView {
    let format: Unmanaged<DatEventFormat>
    let data: UnsafeRawPointer
    let size: Int
    let pid: Int32
    let decoder: UnsafeMutablePointer<DatRecordDecoder>

    /// The event name of the record's format.
    var name: String { format._withUnsafeGuaranteedRef { $0.name } }

    /// The task name of the record's pid, from the decoder's cache.
    var comm: String { decoder.pointee.comm(pid: pid) }

    /// The index of the selected field called `name` in the format.
    func fieldIndex(_ name: String) -> Int? {
        format._withUnsafeGuaranteedRef { $0.fieldNames.firstIndex(of: name) }
    }

    /// The value of the format's selected field at `index`; nil past the
    /// fields or when the payload is too short for it (a damaged
    /// `__data_loc` string), as a `TraceEvent` would lack that field.
    func value(at index: Int) -> FieldValue? {
        format._withUnsafeGuaranteedRef { format in
            guard index >= 0, index < format.slots.count, size > 0 else { return nil }
            return decoder.pointee.value(format.slots[index], data: data, size: size)
        }
    }

    /// The whole event: every selected field the payload holds, in format order.
    func event(timestamp: UInt64, cpu: Int, formatID: Int32) -> TraceEvent {
        format._withUnsafeGuaranteedRef { format in
            var fields = EventFields()
            if !format.slots.isEmpty, size > 0 {
                fields.storage.reserveCapacity(format.slots.count)
                for (name, slot) in zip(format.fieldNames, format.slots) {
                    if let value = decoder.pointee.value(slot, data: data, size: size) {
                        fields.storage.append(EventField(name, value))
                    }
                }
            }
            return TraceEvent(
                timestamp: timestamp, cpu: cpu, pid: pid, comm: comm, name: format.name, system: format.system,
                fields: fields, rawText: nil, timestampResolution: 1, formatID: formatID)
        }
    }
}
