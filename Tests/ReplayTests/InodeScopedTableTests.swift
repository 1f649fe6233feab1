import Testing
import TraceIO
@testable import Replay
@testable import WritebackModel

/// The replay's per-io_end and per-folio tables (`InodeScopedTable`): a
/// dictionary by io_end or folio whose pruning touches one inode only.
@Suite struct InodeScopedTableTests {
    static let a = InodeRef(dev: DeviceNumber(major: 7, minor: 0), ino: 12, generation: 0)
    static let b = InodeRef(dev: DeviceNumber(major: 7, minor: 0), ino: 13, generation: 0)

    static func io(_ inode: InodeRef, _ serial: Int) -> IoEndRef { IoEndRef(inode: inode, serial: serial) }

    @Test func readsWritesAndCounts() {
        var t = InodeScopedTable<IoEndRef, [Int]>()
        #expect(t[Self.io(Self.a, 0)] == nil && t.count == 0)
        t[Self.io(Self.a, 0), default: []].append(1)
        t[Self.io(Self.a, 0), default: []].append(2)
        t[Self.io(Self.b, 0)] = [3]
        #expect(t[Self.io(Self.a, 0)] == [1, 2])
        #expect(t[Self.io(Self.b, 0)] == [3])
        #expect(t[Self.io(Self.a, 1)] == nil)
        #expect(t.count == 2)
        // Replacing counts once; setting nil removes; removing what is absent changes nothing.
        t[Self.io(Self.b, 0)] = [4]
        #expect(t.count == 2)
        t[Self.io(Self.b, 0)] = nil
        t[Self.io(Self.b, 7)] = nil
        #expect(t.count == 1 && t[Self.io(Self.b, 0)] == nil)
        // The default is only read, not stored, by a read.
        #expect(t[Self.io(Self.b, 1), default: [9]] == [9])
        #expect(t.count == 1)
    }

    @Test func removesOnlyTheNamedInodesEntries() {
        var t = InodeScopedTable<IoEndRef, Bool>()
        for s in 0..<10 {
            t[Self.io(Self.a, s)] = true
            t[Self.io(Self.b, s)] = true
        }
        t.removeAll(of: Self.a) { $0 % 2 == 0 }
        #expect(t.count == 15)
        #expect((0..<10).allSatisfy { t[Self.io(Self.a, $0)] == ($0 % 2 == 0 ? nil : true) })
        #expect((0..<10).allSatisfy { t[Self.io(Self.b, $0)] == true })
        t.removeAll(of: Self.a) { _ in true }
        #expect(t.count == 10 && t[Self.io(Self.a, 1)] == nil)
        // An inode with nothing, and nothing to drop: no change.
        t.removeAll(of: Self.a) { _ in true }
        t.removeAll(of: Self.b) { _ in false }
        #expect(t.count == 10)
        t.removeAll()
        #expect(t.count == 0 && t[Self.io(Self.b, 3)] == nil)
    }

    @Test func foliosAreKeyedByIndex() {
        var t = InodeScopedTable<FolioRef, Int>()
        t[FolioRef(inode: Self.a, index: 5)] = 50
        t[FolioRef(inode: Self.b, index: 5)] = 51
        t.removeAll(of: Self.b) { $0 == 5 }
        #expect(t[FolioRef(inode: Self.a, index: 5)] == 50)
        #expect(t[FolioRef(inode: Self.b, index: 5)] == nil)
        #expect(t.count == 1)
    }
}
