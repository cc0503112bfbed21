/// FNV-1a, 64 bits, over `bytes`: a fast fingerprint, not a cryptographic hash.
func fnv1a64<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return hash
}

/// FNV-1a, 64 bits, over the bytes of `tensors` in order: the checksum of a party checkpoint's data.
func fnv1a64(_ tensors: [Tensor]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for tensor in tensors {
        let bytes = UnsafeRawBufferPointer(start: tensor.data, count: tensor.byteCount)
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }
    return hash
}
