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

    /// True when `--name` is present (and removes it).
    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        return true
    }

    /// Returns every value given to `--name`, in order, and removes them.
    mutating func values(_ name: String) throws -> [String] {
        var found: [String] = []
        var i = 0
        while i < items.count {
            if items[i] == name {
                guard i + 1 < items.count, !items[i + 1].hasPrefix("--") else {
                    throw UsageError(message: "\(name) needs a value.")
                }
                found.append(items[i + 1])
                items.removeSubrange(i...(i + 1))
            } else if items[i].hasPrefix(name + "=") {
                found.append(String(items[i].dropFirst(name.count + 1)))
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

    /// Returns an integer option, which must be at least `minimum`.
    mutating func int(_ name: String, minimum: Int = 1) throws -> Int? {
        guard let text = try value(name) else { return nil }
        guard let number = Int(text), number >= minimum else {
            throw UsageError(message: "\(name) expects an integer of at least \(minimum), got '\(text)'.")
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
