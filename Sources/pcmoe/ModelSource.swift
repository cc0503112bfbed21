import Foundation
import PCMoECore

/// The model that `pcmoe score`, `generate` and `export` use, and where it comes from.
enum ModelSource {
    /// A one-process checkpoint, from `pcmoe train` or `pcmoe export`.
    case file(String)
    /// Every party of an in-process run, from ROOT/party-N, using party `id`.
    case inProcess(root: String, id: Int)
    /// Party `id` of a network deployment; the other parties run `pcmoe serve`.
    case network(NetworkPlace)

    /// The options of a party that joins a network deployment.
    struct NetworkPlace {
        var deployment: String
        var id: Int
        var key: String
        var checkpoints: String
        var plainTCP: Bool
    }

    static let help = """
        Model, one of:
          --model FILE          a one-process checkpoint (pcmoe train, pcmoe export); no peer
          --in-process --checkpoints ROOT [--id N]
                                every party of a 'pcmoe party --in-process' run, from the
                                newest checkpoint in ROOT/party-K, in this process; the model
                                is party N's (default 0)
          --deployment FILE --id N --key FILE --checkpoints DIR
                                party N of a network deployment, from the newest checkpoint in
                                DIR; every other party must run 'pcmoe serve' meanwhile, and
                                this party's own 'pcmoe serve' must not (it binds the same port)
        Calls to the other parties (with a party's model):
          --call-timeout S      seconds to wait for each attempt of a remote call (default 120)
          --retries N           times an unanswered call is sent again, 0 to 100 (default 2)
          --join-timeout S      with --deployment: seconds to wait for every other party to
                                answer at the start (default 60)
          --insecure-plain-tcp  with --deployment: turn CURVE off; for debugging on a trusted host only
        """

    /// ``help`` without the --model lines, for commands that need a party's model.
    static let partyHelp = help.replacingOccurrences(
        of: "  --model FILE          a one-process checkpoint (pcmoe train, pcmoe export); no peer\n", with: "")

    /// Reads the model options; exactly one of --model, --in-process and --deployment.
    static func parse(_ args: inout Arguments) throws -> ModelSource {
        let model = try args.value("--model")
        let inProcess = args.flag("--in-process")
        let deployment = try args.value("--deployment")
        let id = try args.int("--id", in: 0...(PartySettings.maxParties - 1))
        let key = try args.value("--key")
        let checkpoints = try args.value("--checkpoints")
        let plainTCP = args.flag("--insecure-plain-tcp")
        guard [model != nil, inProcess, deployment != nil].filter({ $0 }).count == 1 else {
            throw UsageError(message: "give exactly one of --model, --in-process and --deployment.")
        }
        if let model {
            guard id == nil, key == nil, checkpoints == nil, !plainTCP else {
                throw UsageError(message: "--model needs no --id, --key, --checkpoints or --insecure-plain-tcp.")
            }
            return .file(model)
        }
        guard let checkpoints else { throw UsageError(message: "--checkpoints is required with a party's model.") }
        if inProcess {
            guard key == nil, !plainTCP else {
                throw UsageError(message: "--in-process runs every party with no network; give no --key or --insecure-plain-tcp.")
            }
            return .inProcess(root: checkpoints, id: id ?? 0)
        }
        guard let id else { throw UsageError(message: "--id is required with --deployment.") }
        guard let key else { throw UsageError(message: "--key is required with --deployment.") }
        return .network(NetworkPlace(deployment: deployment!, id: id, key: key, checkpoints: checkpoints, plainTCP: plainTCP))
    }
}

/// The transport settings the model options give a restored party.
struct CallOptions {
    var timeout = 120.0
    var retries = 2
    var joinTimeout = 60.0
    /// The options given on the command line, for ``check(for:)``.
    var given: [String] = []

    /// Reads --call-timeout, --retries and, when `join` is true, --join-timeout.
    static func parse(_ args: inout Arguments, join: Bool = true) throws -> CallOptions {
        var options = CallOptions()
        if let value = try seconds(&args, "--call-timeout") {
            options.timeout = value
            options.given.append("--call-timeout")
        }
        if let value = try args.int("--retries", in: 0...PartySettings.maxCallRetries) {
            options.retries = value
            options.given.append("--retries")
        }
        if join, let value = try seconds(&args, "--join-timeout") {
            options.joinTimeout = value
            options.given.append("--join-timeout")
        }
        return options
    }

    /// Rejects call options for a model that makes no remote call, and
    /// --join-timeout where no network is joined.
    func check(for source: ModelSource) throws {
        switch source {
        case .file:
            if let first = given.first { throw UsageError(message: "\(first) applies to a party's model, not to --model.") }
        case .inProcess:
            if given.contains("--join-timeout") {
                throw UsageError(message: "--join-timeout applies to --deployment; in one process every party is there.")
            }
        case .network:
            break
        }
    }

    /// Reads a duration option: above 0 and at most one week.
    static func seconds(_ args: inout Arguments, _ name: String) throws -> Double? {
        guard let value = try args.double(name) else { return nil }
        guard value > 0, value <= PartySettings.maxCallTimeout else {
            throw UsageError(message: "\(name) expects seconds above 0 and at most \(Int(PartySettings.maxCallTimeout)) "
                                 + "(one week), got '\(value)'.")
        }
        return value
    }

    func apply(_ settings: inout PartySettings) {
        settings.callTimeout = timeout
        settings.callRetries = retries
    }
}
