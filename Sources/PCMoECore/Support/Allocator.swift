import CMalloc

/// Tells glibc's allocator to serve large tensors from the heap and to keep
/// freed memory there, instead of mapping fresh zeroed pages for every
/// tensor of every step.
///
/// A training step frees and allocates the same activation sizes again and
/// again; without this, each large allocation costs page faults and page
/// clearing. It changes process-wide allocator settings, so the `pcmoe`
/// tools call it and a host embedding the library decides for itself.
public func keepFreedMemory() {
    _ = mallopt(M_MMAP_THRESHOLD, 512 << 20)
    _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
}
