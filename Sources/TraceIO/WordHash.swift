/// The bucket hash of a key that comes down to one machine word: what
/// `Dictionary` and `Set` ask of a key (`_rawHashValue(seed:)`), as a
/// multiply-xorshift of the word with the table's seed instead of a SipHash
/// round. The replay and the event graph look devices, inodes, folios,
/// io_ends and work items up several times per event and profile; a SipHash
/// round per lookup was several percent of `diff`. The product's high bits
/// depend on every bit of the word and are folded into the low bits, which
/// pick the bucket; equal keys give equal values.
public enum WordHash {
    @inlinable
    public static func fold(_ word: UInt64, seed: Int) -> Int {
        let x = (word ^ UInt64(UInt(bitPattern: seed))) &* 0xFF51_AFD7_ED55_8CCD
        return Int(truncatingIfNeeded: x ^ x >> 29)
    }
}
