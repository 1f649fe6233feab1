import TraceIO

/// How an ext4 file system's blocks map to its disk's sectors:
/// `sector = pblk × blockSize/512 + startSector` on `diskDevice`.
/// ext4 events name the partition (`fsDevice`), block events the whole disk;
/// for loop devices the two coincide and `startSector` is 0.
public struct DeviceGeometry: Hashable, Sendable, CustomStringConvertible {
    public var fsDevice: DeviceNumber
    public var diskDevice: DeviceNumber
    public var blockSize: UInt64
    public var startSector: UInt64
    /// How many (extent, bio) pairs agreed with this geometry.
    public var evidence: Int

    public init(fsDevice: DeviceNumber, diskDevice: DeviceNumber, blockSize: UInt64, startSector: UInt64, evidence: Int) {
        self.fsDevice = fsDevice
        self.diskDevice = diskDevice
        self.blockSize = blockSize
        self.startSector = startSector
        self.evidence = evidence
    }

    public var sectorsPerBlock: UInt64 { blockSize / 512 }

    /// The disk sectors of physical blocks `[pblk, pblk + len)`.
    public func sectors(pblk: UInt64, len: UInt64) -> SectorRange {
        SectorRange(dev: diskDevice, sector: pblk &* sectorsPerBlock &+ startSector, count: len &* sectorsPerBlock)
    }

    public var description: String {
        "\(fsDevice) on \(diskDevice): block size \(blockSize), start sector \(startSector) (\(evidence) matches)"
    }
}

/// Derives each file system's block size and partition offset from the
/// trace: a task maps an extent (`ext4_ext_map_blocks_exit`: pblk, len) and
/// then queues the bio that writes it (`block_bio_queue`: sector, nr). When
/// nr is a power-of-two multiple of len, that multiple is blockSize/512 and
/// `sector - pblk × multiple` the partition start. The geometry with most
/// votes wins, so an occasional mismatched pair does not matter.
/// `block_bio_remap` gives the partition start directly.
public struct GeometryEstimator: Sendable {
    private struct Candidate: Hashable {
        var fs: DeviceNumber
        var disk: DeviceNumber
        var sectorsPerBlock: UInt64
        var start: UInt64
    }

    private var votes: [Candidate: Int] = [:]
    private var remapStarts: [DeviceNumber: (disk: DeviceNumber, start: UInt64)] = [:]
    private var cached: [DeviceNumber: DeviceGeometry] = [:]
    private var dirty = false

    public init() {}

    /// A task mapped `extent` of file system `fs` and then queued `bio`.
    public mutating func observe(fs: DeviceNumber, extent: ExtentRange, bio: SectorRange) {
        guard extent.len > 0, bio.count > 0, bio.count % extent.len == 0 else { return }
        let k = bio.count / extent.len
        // 512-byte to 64 KiB blocks.
        guard k >= 1, k <= 128, k & (k - 1) == 0 else { return }
        let (product, overflow) = extent.pblk.multipliedReportingOverflow(by: k)
        guard !overflow, bio.sector >= product else { return }
        let vote = Candidate(fs: fs, disk: bio.dev, sectorsPerBlock: k, start: bio.sector - product)
        votes[vote, default: 0] += 1
        if !dirty, let best = cached[fs], best.diskDevice == vote.disk, best.sectorsPerBlock == k,
           best.startSector == vote.start {
            // A vote for the geometry that already wins keeps it winning:
            // only its evidence grows (`recompute` over every candidate at
            // each mapped bio showed in profiles).
            cached[fs]!.evidence += 1
        } else {
            dirty = true
        }
    }

    /// `block_bio_remap`: a bio of partition `from.dev` moved to `to.dev`.
    public mutating func observeRemap(from: SectorRange, to: SectorRange) {
        guard to.sector >= from.sector else { return }
        remapStarts[from.dev] = (to.dev, to.sector - from.sector)
        dirty = true
    }

    /// The best-supported geometry of file system `fs`, if the trace shows one.
    public mutating func geometry(of fs: DeviceNumber) -> DeviceGeometry? {
        if dirty { recompute() }
        return cached[fs]
    }

    /// Every derived geometry, by file-system device.
    public mutating func all() -> [DeviceGeometry] {
        if dirty { recompute() }
        return cached.values.sorted { $0.fsDevice < $1.fsDevice }
    }

    private mutating func recompute() {
        dirty = false
        var best: [DeviceNumber: (Candidate, Int)] = [:]
        for (c, n) in votes {
            if let remap = remapStarts[c.fs], remap.disk != c.disk || remap.start != c.start { continue }
            // Ties go to the larger block, then the lower start: deterministic whatever the dictionary order.
            if let b = best[c.fs],
               (b.1, b.0.sectorsPerBlock, UInt64.max - b.0.start) >= (n, c.sectorsPerBlock, UInt64.max - c.start) { continue }
            best[c.fs] = (c, n)
        }
        cached = best.mapValues {
            DeviceGeometry(fsDevice: $0.0.fs, diskDevice: $0.0.disk, blockSize: $0.0.sectorsPerBlock * 512,
                           startSector: $0.0.start, evidence: $0.1)
        }
    }
}
