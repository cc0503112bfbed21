import CPCMoEABI
import Foundation
import PCMoECore

@_cdecl("pcmoe_party_create")
public func abiPartyCreate(_ params: UnsafePointer<pcmoe_party_params>?,
                           _ party: UnsafeMutablePointer<OpaquePointer?>?) -> pcmoe_status {
    party?.pointee = nil
    return abiCall {
        let out = try required(party, "party")
        let config = try partyConfig(try readParams(try required(params, "params")))
        out.pointee = PartyHandle.retained(try PartyHost(config: config))
    }
}

@_cdecl("pcmoe_party_create_from_config")
public func abiPartyCreateFromConfig(_ path: UnsafePointer<CChar>?,
                                     _ party: UnsafeMutablePointer<OpaquePointer?>?) -> pcmoe_status {
    party?.pointee = nil
    return abiCall {
        let out = try required(party, "party")
        let file = try string(path, "path")
        let config: PartyConfig
        do {
            config = try PartyConfig.load(path: file)
        } catch let error as PCMoEError {
            throw ABIError(status: PCMOE_ERROR_INVALID_CONFIG, message: error.message)
        }
        out.pointee = PartyHandle.retained(try PartyHost(config: config))
    }
}

@_cdecl("pcmoe_party_destroy")
public func abiPartyDestroy(_ party: OpaquePointer?) {
    guard let party else { return }
    PartyHandle.release(party)
}

@_cdecl("pcmoe_party_load_data_file")
public func abiPartyLoadDataFile(_ party: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> pcmoe_status {
    abiCall {
        try PartyHandle.host(party).loadData(paths: [try string(path, "path")])
    }
}

@_cdecl("pcmoe_party_load_data")
public func abiPartyLoadData(_ party: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        let text = try bytes(data, size, "the text", limit: Corpus.maxBytes, status: PCMOE_ERROR_INVALID_DATA)
        try host.loadData(bytes: text, name: "loaded from memory")
    }
}

@_cdecl("pcmoe_party_join")
public func abiPartyJoin(_ party: OpaquePointer?) -> pcmoe_status {
    abiCall { try PartyHandle.host(party).join() }
}

@_cdecl("pcmoe_party_train_turn")
public func abiPartyTrainTurn(_ party: OpaquePointer?, _ turn: UInt64,
                              _ result: UnsafeMutablePointer<pcmoe_turn_result>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        if result != nil { try checkOutputSize(size, firstVersion: FirstVersion.turnResult, "result_size") }
        guard turn > 0 else { throw ABIError.invalid("turn 0 is reserved for inference; number turns from 1.") }
        let m = try host.trainTurn(turn)
        guard let result else { return }
        let out = pcmoe_turn_result(turn: m.turn, global_step: m.globalStep, loss: m.loss, cross_entropy: m.crossEntropy,
                                    learning_rate: m.learningRate, gradient_norm: m.backboneGradientNorm)
        write(out, to: result, size: size)
    }
}

@_cdecl("pcmoe_party_evaluate")
public func abiPartyEvaluate(_ party: OpaquePointer?, _ maxWindows: UInt64,
                             _ result: UnsafeMutablePointer<pcmoe_evaluation>?, _ size: Int) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        let out = try required(result, "result")
        try checkOutputSize(size, firstVersion: FirstVersion.evaluation, "result_size")
        write(evaluation(try host.evaluate(maxWindows: windows(maxWindows))), to: out, size: size)
    }
}

@_cdecl("pcmoe_party_evaluate_bytes")
public func abiPartyEvaluateBytes(_ party: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ count: Int,
                                  _ maxWindows: UInt64, _ result: UnsafeMutablePointer<pcmoe_evaluation>?,
                                  _ size: Int) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        let text = try bytes(data, count, "the text", limit: Corpus.maxBytes, status: PCMOE_ERROR_INVALID_DATA)
        let out = try required(result, "result")
        try checkOutputSize(size, firstVersion: FirstVersion.evaluation, "result_size")
        write(evaluation(try host.evaluate(bytes: text[...], maxWindows: windows(maxWindows))), to: out, size: size)
    }
}

/// Converts a window limit from C, where 0 means none.
private func windows(_ limit: UInt64) -> Int? {
    limit == 0 ? nil : Int(clamping: limit)
}

func evaluation(_ r: EvaluationResult) -> pcmoe_evaluation {
    pcmoe_evaluation(loss: r.loss, bits_per_byte: r.bitsPerByte, tokens: UInt64(r.tokens))
}

@_cdecl("pcmoe_party_cancel")
public func abiPartyCancel(_ party: OpaquePointer?) -> pcmoe_status {
    abiCall { try PartyHandle.handle(party).cancel() }
}

@_cdecl("pcmoe_party_set_progress_callback")
public func abiPartySetProgressCallback(_ party: OpaquePointer?, _ callback: pcmoe_progress_fn?,
                                        _ context: UnsafeMutableRawPointer?) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        guard let callback else {
            host.progress = nil
            return
        }
        let hostContext = HostContext(pointer: context)
        host.progress = { report in
            var progress = pcmoe_progress(stage: Int32(report.stage.rawValue), done: UInt64(report.done),
                                          total: UInt64(report.total))
            callback(hostContext.pointer, &progress)
        }
    }
}

@_cdecl("pcmoe_party_save")
public func abiPartySave(_ party: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> pcmoe_status {
    abiCall { try PartyHandle.host(party).save(to: try string(path, "path")) }
}

@_cdecl("pcmoe_party_load")
public func abiPartyLoad(_ party: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> pcmoe_status {
    abiCall { try PartyHandle.host(party).load(from: try string(path, "path")) }
}

@_cdecl("pcmoe_party_metrics")
public func abiPartyMetrics(_ party: OpaquePointer?, _ metrics: UnsafeMutablePointer<pcmoe_metrics>?,
                            _ size: Int) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        let out = try required(metrics, "metrics")
        try checkOutputSize(size, firstVersion: FirstVersion.metrics, "metrics_size")
        let m = host.metrics
        let peak = { (kind: TensorKind) in UInt64(m.peakBytes[kind.rawValue]) }
        let value = pcmoe_metrics(
            party_id: UInt32(host.party.id), party_count: UInt32(host.party.settings.partyCount),
            turns: UInt64(m.turns), expert_steps: UInt64(m.expertSteps), last_loss: m.lastTurn?.loss ?? .nan,
            bytes_sent: UInt64(m.bytesSent), bytes_received: UInt64(m.bytesReceived),
            messages_rejected: UInt64(m.messagesRejected),
            peak_parameter_bytes: peak(.parameters), peak_gradient_bytes: peak(.gradients),
            peak_optimizer_bytes: peak(.optimizerState), peak_activation_bytes: peak(.activations),
            peak_served_activation_bytes: peak(.servedActivations), peak_total_bytes: UInt64(m.peakTotalBytes),
            train_bytes: UInt64(m.trainBytes), validation_bytes: UInt64(m.validationBytes),
            messages_sent: UInt64(m.messagesSent), messages_received: UInt64(m.messagesReceived))
        write(value, to: out, size: size)
    }
}
