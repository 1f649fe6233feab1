import ArgumentParser

@main
struct WBReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wbreplay",
        abstract: "Record, read and replay ext4 writeback traces; flag ordering bugs.",
        version: "0.1.0",
        subcommands: [RecordCommand.self]
    )
}
