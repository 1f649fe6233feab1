import Foundation

extension CLI {
    /// Runs the binary with standard input from `input` (a file opened as
    /// fd 0, or its bytes through a pipe) and extra environment variables.
    static func run(_ arguments: [String], stdinFile input: String? = nil, pipe bytes: Data? = nil,
                    environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        var feeder: Pipe?
        if let input {
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
        } else if bytes != nil {
            feeder = Pipe()
            process.standardInput = feeder
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        if let feeder, let bytes {
            DispatchQueue.global().async {
                try? feeder.fileHandleForWriting.write(contentsOf: bytes)
                try? feeder.fileHandleForWriting.close()
            }
        }
        nonisolated(unsafe) var outData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus,
                         killedBySignal: process.terminationReason == .uncaughtSignal,
                         stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
    }

    static func fixture(_ name: String) -> String {
        repoRoot.appendingPathComponent("Tests/ReplayTests/Fixtures/\(name)").path
    }

    static func json(_ r: CLIResult) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] else {
            throw OracleError(message: "not a JSON object: \(r.stdoutText.prefix(200))")
        }
        return o
    }

    /// An executable on PATH, or nil.
    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Where tests keep what a person may want to look at (screenshots).
    static var artifacts: URL {
        let dir = ProcessInfo.processInfo.environment["WBREPLAY_TEST_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? repoRoot.appendingPathComponent(".build/test-artifacts")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
