import Foundation
import MutationCorpus
import Testing

/// Writes cases for a human to read: `MUTATION_CORPUS_OUT=DIR` (and
/// optionally `MUTATION_CORPUS_FILTER=text` to keep only the case ids
/// containing it) writes each built case's trace and twin as ftrace text,
/// with a note of what was injected and what is expected.
@Suite struct CaseWriterTests {
    static let output = ProcessInfo.processInfo.environment["MUTATION_CORPUS_OUT"]

    @Test(.enabled(if: output != nil, "set MUTATION_CORPUS_OUT=DIR to write the corpus as ftrace text"))
    func writeCases() throws {
        let dir = try #require(Self.output)
        var written = 0
        for id in Corpus.selected(MutationRecallTests.library.caseIDs) {
            guard case .built(let c) = try MutationRecallTests.library.make(id) else { continue }
            try CaseWriter.write(c, to: dir)
            written += 1
        }
        #expect(written > 0, "no case matched")
    }

    /// `MUTATION_INVENTORY=1`: prints every case id with the site it was built
    /// on or why it was skipped (no replay), the input of ExpectedSkips.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MUTATION_INVENTORY"] != nil, "set MUTATION_INVENTORY=1 to list the corpus"))
    func inventory() throws {
        for id in Corpus.selected(MutationRecallTests.library.caseIDs) {
            switch try MutationRecallTests.library.make(id) {
            case .built(let c): print("BUILT\t\(id)\t\(c.expected)")
            case .skipped(let why): print("SKIP\t\(id)\t\(why)")
            }
        }
    }
}
