import Testing
@testable import TraceIO

@Suite struct DeviceFilterTests {
    static let blockRqIssue = """
    name: block_rq_issue
    format:
    \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
    \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

    \tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;
    \tfield:sector_t sector;\toffset:16;\tsize:8;\tsigned:0;
    \tfield:char rwbs[10];\toffset:34;\tsize:10;\tsigned:0;
    \tfield:__data_loc char[] cmd;\toffset:60;\tsize:4;\tsigned:0;
    """
    static let filemapAdd = "\tfield:unsigned long pfn;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:unsigned long i_ino;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:dev_t s_dev;\toffset:32;\tsize:4;\tsigned:0;\n"
    static let dirtyFolio = "\tfield:char name[32];\toffset:8;\tsize:32;\tsigned:0;\n\tfield:ino_t ino;\toffset:40;\tsize:8;\tsigned:0;\n"
    static let balanceDirty = "\tfield:char bdi[32];\toffset:8;\tsize:32;\tsigned:0;\n\tfield:unsigned long limit;\toffset:40;\tsize:8;\tsigned:0;\n"
    static let workqueue = "\tfield:void * work;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:void * function;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:__data_loc char[] workqueue;\toffset:24;\tsize:4;\tsigned:0;\n"

    let loop = DeviceFilter(device: RecordedDevice(fsDevice: DeviceNumber(major: 7, minor: 0), diskDevice: DeviceNumber(major: 7, minor: 0)))
    let partition = DeviceFilter(device: RecordedDevice(fsDevice: DeviceNumber(major: 8, minor: 1), diskDevice: DeviceNumber(major: 8, minor: 0)))

    @Test func parsesFormatFields() {
        let f = EventFormatFields(formatText: Self.blockRqIssue)
        #expect(f.fields.map(\.name) == ["dev", "sector", "rwbs", "cmd"])
        #expect(f.field("dev") == .init(type: "dev_t", name: "dev", isArray: false))
        #expect(f.field("rwbs")?.isArray == true)
        #expect(f.field("cmd")?.type == "__data_loc char")
        #expect(f.field("common_pid") == nil)
        #expect(EventFormatFields(formatText: Self.workqueue).field("function")?.type == "void *")
    }

    @Test func filtersByKernelEncodedDev() {
        let fields = EventFormatFields(formatText: Self.blockRqIssue)
        #expect(loop.expression(system: "ext4", fields: fields) == "dev == 7340032")
        #expect(loop.expression(system: "block", fields: fields) == "dev == 7340032")
        // Block events of a partition carry the whole disk's number.
        #expect(partition.expression(system: "block", fields: fields) == "dev == 8388609 || dev == 8388608")
        #expect(partition.expression(system: "jbd2", fields: fields) == "dev == 8388609")
    }

    @Test func filemapUsesSDev() {
        #expect(loop.expression(system: "filemap", fields: EventFormatFields(formatText: Self.filemapAdd)) == "s_dev == 7340032")
    }

    @Test func writebackUsesTheDiskBdiName() {
        #expect(partition.expression(system: "writeback", fields: EventFormatFields(formatText: Self.dirtyFolio)) == "name == \"8:0\"")
        #expect(loop.expression(system: "writeback", fields: EventFormatFields(formatText: Self.balanceDirty)) == "bdi == \"7:0\"")
    }

    @Test func leavesEventsWithoutADeviceUnfiltered() {
        #expect(loop.expression(system: "workqueue", fields: EventFormatFields(formatText: Self.workqueue)) == nil)
        // A `name` outside writeback is not a bdi name.
        #expect(loop.expression(system: "sched", fields: EventFormatFields(formatText: Self.dirtyFolio)) == nil)
        // A `dev` that is not a dev_t (e.g. a pointer) is not compared with a device number.
        let pointerDev = EventFormatFields(formatText: "\tfield:void * dev;\toffset:8;\tsize:8;\tsigned:0;\n")
        #expect(loop.expression(system: "xyz", fields: pointerDev) == nil)
    }

    @Test func unescapesMountPoints() {
        #expect(MountTable.unescapeOctal("/mnt/with\\040space") == "/mnt/with space")
        #expect(MountTable.unescapeOctal("/plain") == "/plain")
        #expect(MountTable.unescapeOctal("/end\\04") == "/end\\04")
    }

    @Test func resolvesTheRootMount() throws {
        let root = try RecordedDevice.resolve(.mount(path: "/"))
        #expect(root.mountPoint == "/")
        #expect(root.blockSize ?? 0 > 0)
    }

    @Test func rejectsBadMountPaths() {
        #expect(throws: RecordError.badMount(path: "/nonexistent/dir", reason: "no such directory")) {
            try RecordedDevice.resolve(.mount(path: "/nonexistent/dir"))
        }
        #expect(throws: RecordError.badMount(path: "/proc/self", reason: "not a mount point")) {
            try RecordedDevice.resolve(.mount(path: "/proc/self"))
        }
        #expect(throws: RecordError.unknownDevice(DeviceNumber(major: 4000, minor: 77))) {
            try RecordedDevice.resolve(.device(DeviceNumber(major: 4000, minor: 77)))
        }
    }
}
