import PCMoECore

/// A command-line mistake: reported with the command's usage, exit status 2.
struct UsageError: Error {
    let message: String
}

/// The arguments of one subcommand, consumed option by option.
///
/// Options take the forms `--name value` and `--name=value`. Whatever is left
/// after a command took its options is an error, so a misspelt option never
/// passes silently.
struct Arguments {
    private var items: [String]

    init(_ items: [String]) {
        self.items = items
    }

    /// Returns true when `--name` is present, and removes every occurrence.
    mutating func flag(_ name: String) -> Bool {
        let before = items.count
        items.removeAll { $0 == name }
        return items.count < before
    }

    /// Returns every value given to `--name`, in order, and removes them.
    mutating func values(_ name: String) throws -> [String] {
        var found: [String] = []
        var i = 0
        while i < items.count {
            if items[i] == name {
                guard i + 1 < items.count, !items[i + 1].hasPrefix("--"), !items[i + 1].isEmpty else {
                    throw UsageError(message: "\(name) needs a value.")
                }
                found.append(items[i + 1])
                items.removeSubrange(i...(i + 1))
            } else if items[i].hasPrefix(name + "=") {
                let value = String(items[i].dropFirst(name.count + 1))
                guard !value.isEmpty else { throw UsageError(message: "\(name) needs a value.") }
                found.append(value)
                items.remove(at: i)
            } else {
                i += 1
            }
        }
        return found
    }

    /// Returns the value of `--name`, or nil. An option given twice is an error.
    mutating func value(_ name: String) throws -> String? {
        let all = try values(name)
        guard all.count <= 1 else { throw UsageError(message: "\(name) was given \(all.count) times; give it once.") }
        return all.first
    }

    /// Returns the value of `--name`, which must be given once.
    mutating func required(_ name: String) throws -> String {
        guard let found = try value(name) else { throw UsageError(message: "\(name) is required.") }
        return found
    }

    /// Returns the values of `--name`, which must be given at least once.
    mutating func requiredValues(_ name: String) throws -> [String] {
        let found = try values(name)
        guard !found.isEmpty else { throw UsageError(message: "\(name) is required.") }
        return found
    }

    /// Returns an integer option, which must lie in `range` when one is given.
    mutating func int(_ name: String, in range: ClosedRange<Int>? = 1...Int.max) throws -> Int? {
        guard let text = try value(name) else { return nil }
        guard let number = Int(text) else {
            throw UsageError(message: "\(name) expects an integer, got '\(text)'.")
        }
        if let range, !range.contains(number) {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
            throw UsageError(message: "\(name) expects an integer \(bound), got '\(text)'.")
        }
        return number
    }

    /// Returns a finite number option.
    mutating func double(_ name: String) throws -> Double? {
        guard let text = try value(name) else { return nil }
        guard let number = Double(text), number.isFinite else {
            throw UsageError(message: "\(name) expects a number, got '\(text)'.")
        }
        return number
    }

    /// Fails on anything no option took.
    func finish() throws {
        if let first = items.first {
            throw UsageError(message: "unknown argument '\(first)'.")
        }
    }
}
