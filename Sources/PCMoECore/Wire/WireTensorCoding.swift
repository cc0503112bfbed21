extension WireTensor {
    /// Encodes the rows of `tensor` ([rows, columns]) as `dtype`.
    ///
    /// bf16 keeps the upper 16 bits of each float after rounding to nearest
    /// even. f16 rounds to the nearest binary16, so magnitudes of 65520 and
    /// above become infinities, which the receiver rejects.
    public init(_ tensor: Tensor, dtype: WireDType) {
        let count = tensor.count
        var bytes = [UInt8](repeating: 0, count: count * dtype.size)
        bytes.withUnsafeMutableBytes { raw in
            switch dtype {
            case .f32:
                for i in 0..<count { raw.storeBytes(of: tensor.data[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            case .bf16:
                for i in 0..<count { raw.storeBytes(of: bfloat16Bits(tensor.data[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            case .f16:
                for i in 0..<count { raw.storeBytes(of: Float16(tensor.data[i]).bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            }
        }
        self.init(dtype: dtype, shape: [UInt64(tensor.rows), UInt64(tensor.columns)], data: bytes)
    }

    /// Checks the tensor against what the receiver expects and returns its values as float32.
    ///
    /// - Parameters:
    ///   - rows: the row count it must have.
    ///   - columns: the row width it must have.
    ///   - what: the field name, for messages.
    /// - Throws: ``ErrorReply`` with code ``WireErrorCode/invalidRequest``
    ///   when the shape is not [rows, columns] or the byte count disagrees
    ///   with the shape, and ``WireErrorCode/notFinite`` for NaN or infinity.
    public func decode(rows: Int, columns: Int, what: String, kind: TensorKind = .activations,
                       ledger: MemoryLedger? = nil) throws -> Tensor {
        guard shape.count == 2, shape[0] == UInt64(rows), shape[1] == UInt64(columns) else {
            throw ErrorReply(code: .invalidRequest, message: "\(what) has shape \(shape); expected [\(rows), \(columns)].")
        }
        let count = rows * columns
        guard data.count == count * dtype.size else {
            throw ErrorReply(code: .invalidRequest,
                             message: "\(what) has \(data.count) bytes; shape \(shape) in \(dtype) needs \(count * dtype.size).")
        }
        let tensor = Tensor([rows, columns], kind: kind, ledger: ledger)
        data.withUnsafeBytes { raw in
            for i in 0..<count { tensor.data[i] = element(raw, i) }
        }
        if let bad = (0..<count).first(where: { !tensor.data[$0].isFinite }) {
            throw ErrorReply(code: .notFinite,
                             message: "\(what) holds \(tensor.data[bad]) at row \(bad / max(columns, 1)), column \(bad % max(columns, 1)).")
        }
        return tensor
    }

    private func element(_ raw: UnsafeRawBufferPointer, _ i: Int) -> Float {
        switch dtype {
        case .f32:
            return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .bf16:
            return Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
        case .f16:
            return Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
        }
    }
}

/// The bfloat16 bits of `value`, rounded to nearest even; NaN stays NaN.
func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(rounded >> 16)
}
