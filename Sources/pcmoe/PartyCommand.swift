import Foundation
import PCMoECore

enum PartyCommand {
    static let help = """
        Usage: pcmoe party --deployment FILE --id N --key FILE --data PATH [options]
               pcmoe party --deployment FILE --in-process --data PATH ... [options]

        Runs one party of a network session: it serves its experts to the other
        parties over ZeroMQ with CURVE, takes its turns in round-robin order,
        saves a checkpoint with the others every --checkpoint-every rounds, and
        ends with an evaluation on its held-out text once every party has
        trained. Every party of the deployment must be started with the same
        model and training options. A party started again with the same
        --checkpoints folder rejoins the run, and every party resumes from the
        newest checkpoint they all have.

        With --in-process, every party of the deployment runs in this process
        over the in-process transport instead, with no network and no keys:
        the i-th --data and the i-th --backbone-seed belong to party i, and the
        privacy options apply to every party. It prints the same lines, so its
        losses can be compared with a network run.

        Session:
          --deployment FILE     JSON file with the session id and each party's id, endpoint
                                and public key (required)
          --id N                this party's id in the deployment (required without --in-process)
          --key FILE            this party's key file from 'pcmoe keygen'; must be readable by
                                its owner only (required without --in-process)
          --data PATH           training text: file, gzip file or folder; repeatable (required).
                                The last 10 % is held out for the final evaluation
          --checkpoints DIR     folder of this party's checkpoints (default: pcmoe-party-N in
                                the current folder). With --in-process, each party's
                                folder is DIR/party-N (default DIR: pcmoe-parties)
          --checkpoint-every R  rounds between checkpoints (default 1)
          --backbone-seed N     seed of the initial backbone; keep it private (default: drawn
                                from the system's random generator)
          --wire TYPE           element type of the tensors sent: f32, bf16 or f16 (default f32)
          --eval-windows N      windows in the final evaluation (default: the whole held-out text)
        Privacy, set per party; each costs accuracy ('pcmoe attack' measures both sides):
          --row-noise SIGMA     add Gaussian noise of standard deviation SIGMA (0 to 1000) to
                                each value of the rows this party sends to other expert
                                owners, after clipping each row to --row-clip (default: rows
                                sent exact)
          --row-clip X          L2 norm each sent row is clipped to, above 0 (default
                                sqrt(d_model) with --row-noise). Alone, it clips without noise
          --own-expert-layers N
                                in the first N layers, route this party's tokens only to its own
                                experts, so those rows never leave it; 0 to the model's layers,
                                and the party must own at least top-k experts (default 0)
        Faults:
          --call-timeout S      seconds to wait for each attempt of a remote call (default 120)
          --retries N           times an unanswered call is sent again, 0 to 100 (default 2)
          --wait-timeout S      seconds to wait for another party's turn before the session
                                counts as broken and every party joins again (default 600)
          --join-timeout S      seconds to wait for every party to join (default 600)
          --insecure-plain-tcp  turn CURVE off: no encryption and no authentication, so anyone
                                who reaches a port can read the rows and pose as any party.
                                For debugging on a trusted host only
        Model:
        \(ModelOptions.help())
        Training:
          --steps N             turns in the run, all parties together (default 1000)
          --batch N             sequences per turn (default 16)
          --lr X  --warmup X  --min-lr-ratio X  --weight-decay X  --clip X  --seed N
                                as for 'pcmoe train'
          --threads N           threads for the math, 1 to 1024 (default: the cores this process may use)

        Output, one line each, prefixed with "party N:": joins, each of the party's own
        turns with its loss, checkpoints, faults, the final evaluation, and a closing
        "result" line of key=value pairs: val_loss, bits_per_byte, turns, bytes_sent,
        bytes_received, rejected, peak_tensor_bytes, vmhwm_bytes, rejoins and
        train_seconds (from the end of each join to the end of the last turn).
        """

    /// Everything the command was given.
    struct Options {
        var deployment: String
        var id: Int?
        var key: String?
        var data: [String]
        var inProcess: Bool
        var checkpoints: String?
        var session: SessionOptions
        var backboneSeeds: [UInt64]
        var wire = WireDType.f32
        var callTimeout = 120.0
        var retries = 2
        var rowNoise: RowNoise?
        var ownExpertLayers = 0
        var plainTCP: Bool
        var model: ModelConfig
        var training: TrainingOptions
        var threads: Int?
    }

    static func run(_ arguments: [String]) throws {
        let options = try parse(arguments)
        if let threads = options.threads { setMathThreads(threads) }
        // The library's warnings (skipped files, refused connections, retries,
        // plain TCP) go to standard error, like the command's own.
        Log.set(level: .warning) { _, message in warning(message) }
        let deployment = try Deployment.load(path: options.deployment)
        if options.inProcess {
            try PartyRun.inProcess(options, deployment: deployment)
        } else {
            try PartyRun.overNetwork(options, deployment: deployment)
        }
    }

    static func parse(_ arguments: [String]) throws -> Options {
        var args = Arguments(arguments)
        let inProcess = args.flag("--in-process")
        let plainTCP = args.flag("--insecure-plain-tcp")
        let deployment = try args.required("--deployment")
        let data = try args.requiredValues("--data")
        let id = try args.int("--id", in: 0...(PartySettings.maxParties - 1))
        let key = try args.value("--key")
        if inProcess {
            guard id == nil, key == nil, !plainTCP else {
                throw UsageError(message: "--in-process runs every party with no network; give no --id, --key or --insecure-plain-tcp.")
            }
        } else {
            guard id != nil else { throw UsageError(message: "--id is required.") }
            guard key != nil else { throw UsageError(message: "--key is required.") }
        }
        let seeds = try backboneSeeds(&args, most: inProcess ? data.count : 1)

        let checkpoints = try args.value("--checkpoints")
        let session = try sessionOptions(&args, folder: checkpoints ?? "pcmoe-party-\(id ?? 0)")
        let wire = try wireType(&args)
        let callTimeout = try seconds(&args, "--call-timeout") ?? 120
        let retries = try args.int("--retries", in: 0...PartySettings.maxCallRetries) ?? 2
        let model = try ModelOptions.parse(&args, file: try args.value("--config"))
        let training = try TrainCommand.parseTraining(&args)
        let defenses = try DefenseOptions.parse(&args, layers: model.layers)
        let threads = try args.int("--threads", in: 1...1024)
        try args.finish()

        return Options(deployment: deployment, id: id, key: key, data: data, inProcess: inProcess, checkpoints: checkpoints,
                       session: session, backboneSeeds: seeds, wire: wire, callTimeout: callTimeout, retries: retries,
                       rowNoise: defenses.rowNoise(config: model), ownExpertLayers: defenses.ownExpertLayers ?? 0, plainTCP: plainTCP, model: model,
                       training: training, threads: threads)
    }

    private static func backboneSeeds(_ args: inout Arguments, most: Int) throws -> [UInt64] {
        let seeds = try args.values("--backbone-seed").map { text -> UInt64 in
            guard let seed = UInt64(text) else {
                throw UsageError(message: "--backbone-seed expects a non-negative integer, got '\(text)'.")
            }
            return seed
        }
        guard seeds.count <= most else {
            throw UsageError(message: "--backbone-seed was given \(seeds.count) times; give it at most \(most) times, "
                                 + "once per party this process runs.")
        }
        return seeds
    }

    private static func sessionOptions(_ args: inout Arguments, folder: String) throws -> SessionOptions {
        var session = SessionOptions(checkpointFolder: folder)
        if let v = try args.int("--checkpoint-every") { session.checkpointEvery = v }
        if let v = try seconds(&args, "--wait-timeout") { session.waitTimeout = v }
        if let v = try seconds(&args, "--join-timeout") { session.joinTimeout = v }
        session.evaluationWindows = try args.int("--eval-windows")
        try session.validate()
        return session
    }

    /// Reads a duration option: above 0 and at most one week.
    private static func seconds(_ args: inout Arguments, _ name: String) throws -> Double? {
        guard let value = try args.double(name) else { return nil }
        guard value.isFinite, value > 0, value <= PartySettings.maxCallTimeout else {
            throw UsageError(message: "\(name) expects seconds above 0 and at most \(Int(PartySettings.maxCallTimeout)) "
                                 + "(one week), got '\(value)'.")
        }
        return value
    }

    private static func wireType(_ args: inout Arguments) throws -> WireDType {
        guard let text = try args.value("--wire") else { return .f32 }
        guard let type = WireDType.allCases.first(where: { $0.description == text }) else {
            throw UsageError(message: "--wire expects f32, bf16 or f16, got '\(text)'.")
        }
        return type
    }
}
