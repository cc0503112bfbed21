import Foundation
import PCMoECore

/// A model ready for scoring and generation: a one-process model, or a
/// party whose experts live at the other parties, with what must stop
/// when the command is done.
final class OpenedModel {
    /// The party, when the model is a party's.
    let party: Party?
    /// The model alone, when it came from a one-process checkpoint.
    let standalone: MoEModel?
    /// One line naming the model, for the command's output.
    let summary: String
    private let stop: () -> Void

    private init(party: Party?, standalone: MoEModel?, summary: String, stop: @escaping () -> Void = {}) {
        self.party = party
        self.standalone = standalone
        self.summary = summary
        self.stop = stop
    }

    deinit { stop() }

    /// The model's sizes.
    var config: ModelConfig { party?.config ?? standalone!.config }

    /// Scores `bytes` (windows of the model's sequence length).
    func evaluate(_ bytes: ArraySlice<UInt8>, maxWindows: Int?) throws -> EvaluationResult {
        if let party { return try party.evaluate(bytes, maxWindows: maxWindows) }
        return try standalone!.evaluate(bytes, batch: 16, maxWindows: maxWindows)
    }

    /// Continues `prompt`, passing each byte to `emit` as it is drawn.
    func generate(prompt: [UInt8], maxBytes: Int, sampling: SamplingOptions, emit: (UInt8) -> Bool) throws -> [UInt8] {
        if let party { return try party.generate(prompt: prompt, maxBytes: maxBytes, sampling: sampling, emit: emit) }
        return try standalone!.generate(prompt: prompt, maxBytes: maxBytes, sampling: sampling, emit: emit)
    }

    /// Opens the model `source` names. `exportAllowed` is given to every
    /// other party of an in-process run.
    static func open(_ source: ModelSource, calls: CallOptions, defenses: DefenseOptions = DefenseOptions(),
                     exportAllowed: Set<Int> = []) throws -> OpenedModel {
        switch source {
        case .file(let path):
            let (model, header) = try Checkpoint.loadModel(from: path)
            return OpenedModel(party: nil, standalone: model, summary: "\(path) (step \(header.step))")
        case .inProcess(let root, let id):
            return try openInProcess(root: root, id: id, calls: calls, defenses: defenses, exportAllowed: exportAllowed)
        case .network(let place):
            return try openOverNetwork(place, calls: calls, defenses: defenses)
        }
    }

    private static func openInProcess(root: String, id: Int, calls: CallOptions, defenses: DefenseOptions,
                                      exportAllowed: Set<Int>) throws -> OpenedModel {
        let folder = { (party: Int) in (root as NSString).appendingPathComponent("party-\(party)") }
        let first = try PartyCheckpoint.info(path: try PartyCheckpoint.newest(inFolder: folder(0)))
        guard id < first.partyCount else {
            throw UsageError(message: "--id is \(id), but the run in \(root) has \(first.partyCount) parties, 0 to "
                                 + "\(first.partyCount - 1).")
        }
        let parties = try (0..<first.partyCount).map { party in
            let path = try PartyCheckpoint.newest(inFolder: folder(party))
            let info = try PartyCheckpoint.info(path: path)
            // A folder with another party's file would make that party reply twice, or in the wrong place.
            guard info.partyID == party, info.partyCount == first.partyCount, info.session == first.session else {
                throw PCMoEError.invalidCheckpoint("\(path) belongs to party \(info.partyID) of \(info.partyCount) in "
                                                       + "session \(info.session), but its folder is party \(party)'s of a "
                                                       + "run of \(first.partyCount) parties in session \(first.session).")
            }
            return try restore(path, info: info, calls: calls, defenses: party == id ? defenses : DefenseOptions())
        }
        let transport = InProcessTransport(partyCount: parties.count)
        for party in parties {
            try transport.connect(party)
            if party.id != id { try party.allowExport(to: exportAllowed) }
        }
        try parties[id].join()
        let summary = "party \(id) of \(parties.count) after \(first.expertSteps) turns (in process, \(root); "
            + "\(PartyRun.privacySummary(parties[id].settings)))"
        // The other parties must live as long as the model uses their experts.
        return OpenedModel(party: parties[id], standalone: nil, summary: summary, stop: { _ = parties })
    }

    private static func openOverNetwork(_ place: ModelSource.NetworkPlace, calls: CallOptions,
                                        defenses: DefenseOptions) throws -> OpenedModel {
        let deployment = try Deployment.load(path: place.deployment)
        let keys = try CurveKeyPair.read(keyFile: place.key)
        let path = try PartyCheckpoint.newest(inFolder: place.checkpoints)
        let party = try restoreNetworkParty(from: path, place: place, deployment: deployment, calls: calls,
                                            defenses: defenses)
        let transport = try ZeroMQTransport(deployment: deployment, id: place.id, keys: keys,
                                            insecurePlainTCP: place.plainTCP, maxMessageBytes: party.maxFrameBytes)
        do {
            try transport.start(party, deployment: deployment)
            try join(party, within: calls.joinTimeout)
        } catch {
            transport.stop()
            throw error
        }
        let summary = "party \(place.id) of \(deployment.members.count) after \(party.expertSteps) turns (\(path); "
            + "\(PartyRun.privacySummary(party.settings)))"
        return OpenedModel(party: party, standalone: nil, summary: summary, stop: { transport.stop() })
    }

    /// Restores party `place.id` and checks that the checkpoint belongs to it and to the deployment.
    static func restoreNetworkParty(from path: String, place: ModelSource.NetworkPlace, deployment: Deployment,
                                    calls: CallOptions, defenses: DefenseOptions = DefenseOptions()) throws -> Party {
        let info = try PartyCheckpoint.info(path: path)
        guard info.partyID == place.id, info.partyCount == deployment.members.count, info.session == deployment.session else {
            throw PCMoEError.invalidCheckpoint("\(path) belongs to party \(info.partyID) of \(info.partyCount) in session "
                                                   + "\(info.session), but --id and the deployment give party \(place.id) of "
                                                   + "\(deployment.members.count) in session \(deployment.session).")
        }
        return try restore(path, info: info, calls: calls, defenses: defenses)
    }

    /// Restores the party of the checkpoint at `path` with the call and privacy settings.
    private static func restore(_ path: String, info: PartyCheckpointInfo, calls: CallOptions,
                                defenses: DefenseOptions) throws -> Party {
        // Checked first, so that an error names the option.
        var chosen = PartySettings(id: info.partyID, partyCount: info.partyCount, session: info.session)
        try defenses.apply(&chosen, config: info.config)
        return try Party.restored(from: path) { settings in
            calls.apply(&settings)
            settings.rowNoise = chosen.rowNoise
            settings.ownExpertLayers = chosen.ownExpertLayers
        }
    }

    /// Greets every other party in short attempts until all reply or
    /// `seconds` pass. A reply that rejects the Hello or reports a mismatch
    /// ends the wait at once.
    static func join(_ party: Party, within seconds: Double) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        var warned = false
        while true {
            do {
                try party.join(timeout: min(2, seconds), retries: 0)
                return
            } catch let error as PCMoEError {
                // Only a missing reply is worth waiting for, because any reply is final.
                guard error.message.contains("did not answer") else { throw error }
                guard Date() < deadline else {
                    throw PCMoEError.peer("party \(party.id) waited \(Int(seconds.rounded())) s (--join-timeout) for every "
                                              + "other party to answer, and the last attempt failed: \(error.message) Check that "
                                              + "every other party runs 'pcmoe serve' with the same deployment file.")
                }
                if !warned {
                    warning("party \(party.id) is waiting up to \(Int(seconds.rounded())) s for the other parties to answer: "
                                + error.message)
                    warned = true
                }
            }
        }
    }
}
