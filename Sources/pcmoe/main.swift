import Foundation
import PCMoECore

let mainHelp = """
    Usage: pcmoe COMMAND [options]

    pcmoe trains byte-level Mixture-of-Experts language models on OpenBLAS.

    Commands:
      train     train one model on text files, gzip files or folders
      demo      train one model collaboratively with one party per corpus, next to the
                baselines, and compare quality, memory, traffic and time
      eval      report a checkpoint's validation loss and bits per byte
      logits    write a checkpoint's next-byte logits for some bytes, as raw float32
      keygen    make a CURVE key pair for one party of a network session
      party     run one party of a network session: serve its experts, take its turns,
                checkpoint and resume with the others
      serve     serve a trained party's experts to the others for inference and export
      score     score text under a party's model (or a one-process checkpoint)
      generate  continue a prompt with a party's model, streaming the bytes
      export    copy the whole model to one file, when every other owner agrees
      attack    measure how much of one party's text another party recovers from the
                rows it receives, with and without defenses
      help      show this text, or a command's options: pcmoe help train

    Run 'pcmoe COMMAND --help' for the options of a command.
    """

/// Prints a warning on standard error.
func warning(_ text: String) {
    fputs("warning: \(text)\n", stderr)
}

func fail(_ text: String, status: Int32) -> Never {
    fputs("error: \(text)\n", stderr)
    exit(status)
}

let commands: [String: (help: String, run: ([String]) throws -> Void)] = [
    "train": (TrainCommand.help, TrainCommand.run),
    "demo": (DemoCommand.help, DemoCommand.run),
    "eval": (EvalCommand.help, EvalCommand.run),
    "logits": (LogitsCommand.help, LogitsCommand.run),
    "keygen": (KeygenCommand.help, KeygenCommand.run),
    "party": (PartyCommand.help, PartyCommand.run),
    "serve": (ServeCommand.help, ServeCommand.run),
    "score": (ScoreCommand.help, ScoreCommand.run),
    "generate": (GenerateCommand.help, GenerateCommand.run),
    "export": (ExportCommand.help, ExportCommand.run),
    "attack": (AttackCommand.help, AttackCommand.run),
]

var arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, !["--help", "-h", "help"].contains(name) || arguments.count > 1 else {
    print(mainHelp)
    exit(arguments.isEmpty ? 2 : 0)
}
if name == "help" {
    guard let command = commands[arguments[1]] else {
        fail("unknown command '\(arguments[1])'; run 'pcmoe --help' for the list.", status: 2)
    }
    print(command.help)
    exit(0)
}
guard let command = commands[name] else {
    fail("unknown command '\(name)'; run 'pcmoe --help' for the list.", status: 2)
}
let commandArguments = Array(arguments.dropFirst())
if commandArguments.contains("--help") || commandArguments.contains("-h") {
    print(command.help)
    exit(0)
}
keepFreedMemory()
// Progress lines reach a log file or a pipe as they are printed.
setvbuf(stdout, nil, _IOLBF, 0)
do {
    try command.run(commandArguments)
} catch let error as UsageError {
    fail("\(error.message) Run 'pcmoe \(name) --help' for the options.", status: 2)
} catch let error as PCMoEError {
    fail(error.message, status: 1)
} catch {
    fail("\(error)", status: 1)
}
