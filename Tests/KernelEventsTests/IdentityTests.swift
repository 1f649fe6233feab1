import Testing
import TraceIO
@testable import KernelEvents

@Suite struct IdentityTests {
    let key = InodeKey(dev: DeviceNumber(major: 7, minor: 0), ino: 12)

    @Test func allocationOfASeenNumberStartsANewGeneration() {
        var g = InodeGenerations()
        let old = g.resolve(key)
        #expect(g.resolve(key) == old)
        let new = g.allocate(key)
        #expect(new != old)
        #expect(new.generation == old.generation + 1)
        #expect(g.resolve(key) == new)
    }

    @Test func firstAllocationKeepsGenerationZero() {
        var g = InodeGenerations()
        #expect(g.allocate(key).generation == 0)
        #expect(g.resolve(key).generation == 0)
    }

    @Test func geometryFromExtentBioPairs() {
        var est = GeometryEstimator()
        let fs = DeviceNumber(major: 8, minor: 1), disk = DeviceNumber(major: 8, minor: 0)
        // 1 KiB blocks (2 sectors), partition starting at sector 2048.
        est.observe(fs: fs, extent: ExtentRange(lblk: 0, pblk: 100, len: 4), bio: SectorRange(dev: disk, sector: 2248, count: 8))
        est.observe(fs: fs, extent: ExtentRange(lblk: 4, pblk: 500, len: 1), bio: SectorRange(dev: disk, sector: 3048, count: 2))
        // A mismatched pair votes elsewhere and loses.
        est.observe(fs: fs, extent: ExtentRange(lblk: 9, pblk: 7, len: 1), bio: SectorRange(dev: disk, sector: 90000, count: 8))
        let g = est.geometry(of: fs)
        #expect(g?.blockSize == 1024)
        #expect(g?.startSector == 2048)
        #expect(g?.diskDevice == disk)
        #expect(g?.sectors(pblk: 100, len: 4) == SectorRange(dev: disk, sector: 2248, count: 8))
    }

    @Test func noGeometryWithoutEvidence() {
        var est = GeometryEstimator()
        // bio size not a power-of-two multiple of the extent length.
        est.observe(fs: DeviceNumber(major: 7, minor: 0), extent: ExtentRange(lblk: 0, pblk: 1, len: 3),
                    bio: SectorRange(dev: DeviceNumber(major: 7, minor: 0), sector: 8, count: 8))
        #expect(est.geometry(of: DeviceNumber(major: 7, minor: 0)) == nil)
    }
}
