import Foundation
import PCMoECore

enum ServeCommand {
    static let help = """
        Usage: pcmoe serve --deployment FILE --id N --key FILE --checkpoints DIR [options]

        Serves one party's experts to the other parties of a network deployment
        after training, from the newest checkpoint in DIR, so that they can run
        'pcmoe score', 'pcmoe generate' and 'pcmoe export' with their own
        models. Inference requests change nothing here. Runs until SIGINT or
        SIGTERM, then prints what it served.

          --deployment FILE     the deployment file of the training run (required)
          --id N                this party's id (required)
          --key FILE            this party's key file (required)
          --checkpoints DIR     this party's checkpoint folder (required)
          --allow-export IDS    parties (comma-separated ids) this party sends its experts to
                                when they export the whole model (default: none). They get
                                experts trained on this party's data, to keep
          --call-timeout S  --retries N
                                as for 'pcmoe party'
          --insecure-plain-tcp  turn CURVE off; for debugging on a trusted host only
          --threads N           threads for the math, 1 to 1024
        """

    static func run(_ arguments: [String]) throws {
        var args = Arguments(arguments)
        let place = ModelSource.NetworkPlace(deployment: try args.required("--deployment"),
                                             id: try args.int("--id", in: 0...(PartySettings.maxParties - 1))
                                                 ?? { throw UsageError(message: "--id is required.") }(),
                                             key: try args.required("--key"), checkpoints: try args.required("--checkpoints"),
                                             plainTCP: args.flag("--insecure-plain-tcp"))
        let calls = try CallOptions.parse(&args, join: false)
        let allowed = try parseAllowed(&args)
        let threads = try args.int("--threads", in: 1...1024)
        try args.finish()

        if let threads { setMathThreads(threads) }
        Log.set(level: .warning) { _, message in warning(message) }
        let interrupts = Interrupts()
        let deployment = try Deployment.load(path: place.deployment)
        let keys = try CurveKeyPair.read(keyFile: place.key)
        let path = try PartyCheckpoint.newest(inFolder: place.checkpoints)
        let party = try OpenedModel.restoreNetworkParty(from: path, place: place, deployment: deployment, calls: calls)
        try party.allowExport(to: allowed)
        let transport = try ZeroMQTransport(deployment: deployment, id: place.id, keys: keys,
                                            insecurePlainTCP: place.plainTCP, maxMessageBytes: party.maxFrameBytes)
        try transport.start(party, deployment: deployment)
        let exports = allowed.isEmpty ? "no party" : allowed.sorted().map { "party \($0)" }.joined(separator: ", ")
        print("party \(place.id): serving at \(transport.boundEndpoint) from \(path) (\(party.expertSteps) expert steps); "
              + "exports to \(exports); " + (place.plainTCP ? "PLAIN TCP, NOT ENCRYPTED" : "CURVE on"))

        while interrupts.caught == nil { usleep(100_000) }
        transport.stop()
        let traffic = party.traffic
        print("party \(place.id): stopped on \(Interrupts.name(interrupts.caught!)) after sending \(traffic.sent) bytes "
              + "and receiving \(traffic.received); rejected \(traffic.rejected) messages")
    }

    /// Reads --allow-export: comma-separated party ids.
    static func parseAllowed(_ args: inout Arguments) throws -> Set<Int> {
        guard let text = try args.value("--allow-export") else { return [] }
        var ids: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let id = Int(item.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw UsageError(message: "--allow-export expects comma-separated party ids, got '\(text)'.")
            }
            ids.insert(id)
        }
        return ids
    }
}
