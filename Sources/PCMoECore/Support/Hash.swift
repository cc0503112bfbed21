/// The FNV-1a 64-bit offset basis: the hash of no bytes.
let fnv1a64Basis: UInt64 = 0xcbf2_9ce4_8422_2325

/// FNV-1a, 64 bits, over `bytes`, continuing from `hash`: a fast
/// fingerprint, not a cryptographic hash.
func fnv1a64<Bytes: Sequence>(_ bytes: Bytes, from hash: UInt64 = fnv1a64Basis) -> UInt64 where Bytes.Element == UInt8 {
    var hash = hash
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return hash
}

/// FNV-1a, 64 bits, over the bytes of `tensors` in order: the checksum of
/// a party checkpoint's data.
func fnv1a64(_ tensors: [Tensor]) -> UInt64 {
    tensors.reduce(fnv1a64Basis) { hash, tensor in
        fnv1a64(UnsafeRawBufferPointer(start: tensor.data, count: tensor.byteCount), from: hash)
    }
}
