import Foundation
import Testing
@testable import TraceIO

/// The whole-file conformance of the text reader against the trace.dat
/// reader: each sample's tracefs text and its trace.dat twin hold the same
/// ring buffer, so per CPU they must give the same events (text timestamps
/// are the nanoseconds rounded to the nearest microsecond) with the same
/// values for every field the text prints.
@Suite struct TextDatConformanceTests {
    @Test(arguments: Samples.pairNames)
    func tracefsTextMatchesTraceDat(name: String) throws {
        try TextDatComparison.compare(text: Samples.path(name + ".txt"), dat: Samples.path(name + ".dat"), rounding: 1000)
    }

    @Test(arguments: Samples.pairNames)
    func reportMatchesTraceDat(name: String) throws {
        try TextDatComparison.compare(text: try TextSamples.report(name, ["-t"]), dat: Samples.path(name + ".dat"), rounding: 1)
    }
}
