import CPCMoEABI
import Foundation
import PCMoECore

/// The object behind a pcmoe_network handle: one party's ZeroMQ transport.
///
/// The party is referenced weakly, as the transport itself does, so either
/// handle may be destroyed first.
final class NetworkHandle {
    let transport: ZeroMQTransport
    private weak var party: Party?

    init(_ transport: ZeroMQTransport, party: Party) {
        self.transport = transport
        self.party = party
    }

    static func object(_ handle: OpaquePointer?) throws -> NetworkHandle {
        let pointer = try required(handle, "network")
        return Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Stops the transport and takes it from the party when the party still
    /// uses it, so the party's next call fails at once for want of one.
    func close() {
        transport.stop()
        if let party, party.transport === transport {
            party.transport = nil
        }
    }
}

/// Runs `body`, turning every core error about a deployment or key file
/// into PCMOE_ERROR_INVALID_CONFIG.
private func readingConfig<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PCMoEError {
        throw ABIError(status: PCMOE_ERROR_INVALID_CONFIG, message: error.message)
    }
}

/// Checks that `deployment` describes `party`'s session and lists `keys` for its id.
private func check(_ deployment: Deployment, path: String, fits party: Party, keys: CurveKeyPair, keyPath: String) throws {
    let settings = party.settings
    func mismatch(_ message: String) -> ABIError {
        ABIError(status: PCMOE_ERROR_INVALID_CONFIG, message: "the deployment file \(path) " + message)
    }
    guard deployment.members.count == settings.partyCount else {
        throw mismatch("lists \(deployment.members.count) parties; party \(party.id) belongs to a session of "
                           + "\(settings.partyCount).")
    }
    guard deployment.session == settings.session else {
        throw mismatch("is for session \(deployment.session); party \(party.id) is in session \(settings.session).")
    }
    guard deployment.members[party.id].publicKey == keys.publicKey else {
        throw mismatch("lists another public key for party \(party.id) than the key pair file \(keyPath) contains; "
                           + "give the party its own key pair file.")
    }
}

@_cdecl("pcmoe_network_create")
public func abiNetworkCreate(_ party: OpaquePointer?, _ deploymentPath: UnsafePointer<CChar>?,
                             _ keyPath: UnsafePointer<CChar>?, _ flags: UInt32,
                             _ network: UnsafeMutablePointer<OpaquePointer?>?) -> pcmoe_status {
    network?.pointee = nil
    return abiCall {
        let out = try required(network, "network")
        let host = try PartyHandle.host(party)
        let deploymentFile = try string(deploymentPath, "deployment_path")
        let keyFile = try string(keyPath, "key_path")
        let plain = PCMOE_NETWORK_INSECURE_PLAIN_TCP.rawValue
        guard flags & ~plain == 0 else {
            throw ABIError.invalid("flags is \(flags); the only flag is PCMOE_NETWORK_INSECURE_PLAIN_TCP (\(plain)).")
        }
        let deployment = try readingConfig { try Deployment.load(path: deploymentFile) }
        let keys = try readingConfig { try CurveKeyPair.read(keyFile: keyFile) }
        try check(deployment, path: deploymentFile, fits: host.party, keys: keys, keyPath: keyFile)
        // libzmq closes a connection that sends a frame larger than the party accepts.
        let transport = try ZeroMQTransport(deployment: deployment, id: host.party.id, keys: keys,
                                            insecurePlainTCP: flags & plain != 0,
                                            maxMessageBytes: host.party.maxFrameBytes)
        try transport.start(host.party, deployment: deployment)
        out.pointee = OpaquePointer(Unmanaged.passRetained(NetworkHandle(transport, party: host.party)).toOpaque())
    }
}

@_cdecl("pcmoe_network_destroy")
public func abiNetworkDestroy(_ network: OpaquePointer?) {
    guard let network else { return }
    let handle = Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(network))
    handle.takeUnretainedValue().close()
    handle.release()
}

@_cdecl("pcmoe_network_stats")
public func abiNetworkStats(_ network: OpaquePointer?, _ counters: UnsafeMutablePointer<pcmoe_network_counters>?,
                            _ size: Int) -> pcmoe_status {
    abiCall {
        let transport = try NetworkHandle.object(network).transport
        let out = try required(counters, "counters")
        try checkOutputSize(size, firstVersion: FirstVersion.networkCounters, "counters_size")
        let value = pcmoe_network_counters(rejected_connections: UInt64(transport.rejectedConnections),
                                           dropped_messages: UInt64(transport.droppedMessages))
        write(value, to: out, size: size)
    }
}
