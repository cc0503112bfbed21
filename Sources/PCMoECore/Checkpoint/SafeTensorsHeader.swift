import Foundation

/// One tensor's entry in a safetensors header, with offsets relative to the data region.
struct SafeTensorsEntry {
    let name: String
    let shape: [Int]
    let begin: Int
    let end: Int
}

/// The parsed and checked JSON header of a safetensors file.
///
/// Every check throws ``PCMoEError/invalidCheckpoint(_:)`` with one sentence
/// naming the file, so no input can trap.
struct SafeTensorsHeader {
    /// The tensors in the order of their data in the file.
    let entries: [SafeTensorsEntry]
    /// The `__metadata__` object, or an empty dictionary when there is none.
    let metadata: [String: String]

    /// Parses `bytes` and checks that the entries tile a data region of `dataSize` bytes exactly.
    static func parse(_ bytes: [UInt8], dataSize: Int, path: String) throws -> SafeTensorsHeader {
        let object = try parseObject(bytes, path: path)

        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (key, value) in object {
            if key == SafeTensors.metadataKey {
                metadata = try parseMetadata(value, path: path)
            } else {
                entries.append(try parseEntry(name: key, value: value, dataSize: dataSize, path: path))
            }
        }

        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        try checkTiling(entries, dataSize: dataSize, path: path)
        return SafeTensorsHeader(entries: entries, metadata: metadata)
    }

    /// Decodes the header as UTF-8 JSON and returns its top-level object.
    private static func parseObject(_ bytes: [UInt8], path: String) throws -> [String: Any] {
        // JSONSerialization guesses UTF-16 and UTF-32 from NUL bytes, so UTF-8 is checked first.
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw notSafeTensors(path, "its header is not valid UTF-8")
        }

        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw notSafeTensors(path, "its header is not valid JSON")
        }

        guard let object = parsed as? [String: Any] else {
            throw notSafeTensors(path, "its header is JSON but not an object")
        }
        return object
    }

    /// Returns the `__metadata__` value as a dictionary of strings.
    private static func parseMetadata(_ value: Any, path: String) throws -> [String: String] {
        guard let object = value as? [String: Any] else {
            throw invalid(path, "its \"\(SafeTensors.metadataKey)\" entry is not a JSON object")
        }

        var metadata: [String: String] = [:]
        for (key, item) in object {
            guard let text = item as? String else {
                throw invalid(path, "its metadata value for \"\(key)\" is not a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    /// Returns the entry for tensor `name` after checking its fields against the data region.
    private static func parseEntry(name: String, value: Any, dataSize: Int,
                                   path: String) throws -> SafeTensorsEntry {
        guard let fields = value as? [String: Any] else {
            throw invalid(path, "the entry for tensor \"\(name)\" is not a JSON object")
        }
        let expectedKeys: Set<String> = ["dtype", "shape", "data_offsets"]
        guard Set(fields.keys) == expectedKeys else {
            let found = fields.keys.sorted().joined(separator: ", ")
            throw invalid(path, "tensor \"\(name)\" has the fields [\(found)] instead of exactly dtype, shape and data_offsets")
        }

        guard let dtype = fields["dtype"] as? String, dtype == "F32" else {
            throw invalid(path, "tensor \"\(name)\" has dtype \(jsonText(fields["dtype"]!)) but only F32 is supported")
        }
        let shape = try parseShape(fields["shape"]!, name: name, path: path)
        let (begin, end) = try parseOffsets(fields["data_offsets"]!, name: name, path: path)
        try checkSpan(begin: begin, end: end, shape: shape, dataSize: dataSize, name: name, path: path)

        return SafeTensorsEntry(name: name, shape: shape, begin: begin, end: end)
    }

    /// Returns the shape as non-negative integers.
    private static func parseShape(_ value: Any, name: String, path: String) throws -> [Int] {
        guard let items = value as? [Any] else {
            throw invalid(path, "tensor \"\(name)\" has a shape that is not a JSON array")
        }

        var shape: [Int] = []
        for item in items {
            guard let dimension = integer(item), dimension >= 0 else {
                throw invalid(path, "tensor \"\(name)\" has the shape entry \(jsonText(item)), which is not a non-negative integer")
            }
            shape.append(dimension)
        }
        return shape
    }

    /// Returns `data_offsets` as a pair of non-negative integers.
    private static func parseOffsets(_ value: Any, name: String, path: String) throws -> (Int, Int) {
        guard let items = value as? [Any], items.count == 2,
              let begin = integer(items[0]), let end = integer(items[1]), begin >= 0, end >= 0
        else {
            throw invalid(path, "tensor \"\(name)\" has data_offsets \(jsonText(value)) instead of two non-negative integers")
        }
        return (begin, end)
    }

    /// Checks that `begin..<end` is in order, inside the data region and as long as `shape` needs.
    private static func checkSpan(begin: Int, end: Int, shape: [Int], dataSize: Int,
                                  name: String, path: String) throws {
        guard begin <= end else {
            throw invalid(path, "tensor \"\(name)\" has reversed data_offsets [\(begin), \(end)]")
        }
        guard end <= dataSize else {
            throw invalid(path, "tensor \"\(name)\" has data_offsets [\(begin), \(end)] past the end of the \(dataSize)-byte data region, so the file is truncated or damaged")
        }
        guard let needed = float32ByteCount(shape) else {
            throw invalid(path, "tensor \"\(name)\" has shape \(shape), whose byte count overflows Int")
        }
        guard end - begin == needed else {
            throw invalid(path, "tensor \"\(name)\" spans \(end - begin) bytes but shape \(shape) needs \(needed) bytes of F32")
        }
    }

    /// Checks that the sorted entries cover the data region exactly, with no overlap and no hole.
    private static func checkTiling(_ entries: [SafeTensorsEntry], dataSize: Int, path: String) throws {
        var covered = 0
        var previous: SafeTensorsEntry?
        for entry in entries {
            if entry.begin < covered, let previous {
                throw invalid(path, "tensors \"\(previous.name)\" and \"\(entry.name)\" have overlapping data_offsets")
            }
            if entry.begin > covered {
                throw invalid(path, "bytes \(covered)..<\(entry.begin) of its data region, before tensor \"\(entry.name)\", belong to no tensor")
            }
            covered = entry.end
            previous = entry
        }

        if covered != dataSize {
            throw invalid(path, "bytes \(covered)..<\(dataSize) at the end of its data region belong to no tensor")
        }
    }

    /// Returns the product of `shape` times 4, or nil when it overflows `Int`.
    static func float32ByteCount(_ shape: [Int]) -> Int? {
        var product = MemoryLayout<Float>.size
        for dimension in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }

    /// Returns `value` as an `Int` when it is a JSON integer that fits.
    ///
    /// On Linux, JSONSerialization returns `NSNumber` for numbers and
    /// booleans alike, so the Objective-C type code tells them apart. "c" is
    /// a boolean, "d" a number written with a fraction or exponent (or too
    /// large for 64 bits), and the rest are integers.
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }

        let integerCodes: Set<String> = ["s", "i", "l", "q", "S", "I", "L", "Q"]
        guard integerCodes.contains(String(cString: number.objCType)) else { return nil }
        return Int(exactly: number)
    }

    /// Returns `value` as compact JSON text for messages, or its description when it has no JSON form.
    private static func jsonText(_ value: Any) -> String {
        // Numbers are described directly, so that 1.0 stays "1.0" and a boolean reads "true".
        if let number = value as? NSNumber {
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.description
        }

        let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: value, options: options)
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Builds the error for a file that does not have the safetensors layout at all.
    static func notSafeTensors(_ path: String, _ problem: String) -> PCMoEError {
        PCMoEError.invalidCheckpoint("\(path) is not a safetensors file: \(problem); pass a safetensors checkpoint.")
    }

    /// Builds the error for a safetensors header that breaks a rule of the format.
    static func invalid(_ path: String, _ problem: String) -> PCMoEError {
        PCMoEError.invalidCheckpoint("Checkpoint \(path) is invalid: \(problem); save it again or load another checkpoint.")
    }
}
