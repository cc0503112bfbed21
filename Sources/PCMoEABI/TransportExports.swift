import CPCMoEABI
import Foundation
import PCMoECore

@_cdecl("pcmoe_party_set_transport")
public func abiPartySetTransport(_ party: OpaquePointer?, _ send: pcmoe_send_fn?,
                                 _ context: UnsafeMutableRawPointer?) -> pcmoe_status {
    abiCall {
        let host = try PartyHandle.host(party)
        host.party.transport = CallbackTransport(try required(send, "send"), context: context)
    }
}

@_cdecl("pcmoe_party_handle_message")
public func abiPartyHandleMessage(_ party: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ size: Int,
                                  _ reply: UnsafeMutablePointer<pcmoe_message>?) -> pcmoe_status {
    reply?.pointee = pcmoe_message(destination: -1, bytes: nil, size: 0)
    return abiCall {
        let host = try PartyHandle.host(party)
        let out = try required(reply, "reply")
        let delivery = host.party.receive(try buffer(data, size, "bytes"))
        if let outgoing = delivery.reply, !outgoing.bytes.isEmpty {
            let copy = malloc(outgoing.bytes.count)!.assumingMemoryBound(to: UInt8.self)
            copy.initialize(from: outgoing.bytes, count: outgoing.bytes.count)
            out.pointee = pcmoe_message(destination: Int32(outgoing.destination ?? -1), bytes: copy,
                                        size: outgoing.bytes.count)
        }
        if let refusal = delivery.refusal {
            throw ABIError(status: PCMOE_ERROR_BAD_MESSAGE, message: refusal)
        }
    }
}

@_cdecl("pcmoe_message_free")
public func abiMessageFree(_ message: UnsafeMutablePointer<pcmoe_message>?) {
    guard let message else { return }
    free(message.pointee.bytes)
    message.pointee = pcmoe_message(destination: -1, bytes: nil, size: 0)
}

@_cdecl("pcmoe_hub_create")
public func abiHubCreate(_ partyCount: UInt32, _ hub: UnsafeMutablePointer<OpaquePointer?>?) -> pcmoe_status {
    hub?.pointee = nil
    return abiCall {
        let out = try required(hub, "hub")
        guard (1...UInt32(PartySettings.maxParties)).contains(partyCount) else {
            throw ABIError.invalid("the party count is \(partyCount); it must be from 1 to \(PartySettings.maxParties).")
        }
        let handle = HubHandle(InProcessTransport(partyCount: Int(partyCount)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("pcmoe_hub_attach")
public func abiHubAttach(_ hub: OpaquePointer?, _ party: OpaquePointer?) -> pcmoe_status {
    abiCall {
        let transport = try HubHandle.transport(hub)
        try transport.connect(try PartyHandle.host(party).party)
    }
}

@_cdecl("pcmoe_hub_destroy")
public func abiHubDestroy(_ hub: OpaquePointer?) {
    guard let hub else { return }
    Unmanaged<HubHandle>.fromOpaque(UnsafeRawPointer(hub)).release()
}
