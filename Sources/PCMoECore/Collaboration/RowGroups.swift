/// The rows of a request grouped by expert: experts ascending, and within
/// an expert the rows in request order.
struct RowGroups {
    /// Each expert that got rows, with the request positions of its rows.
    let groups: [(expert: Int, rows: [Int32])]
    /// The number of rows in the request.
    let count: Int

    /// Groups the rows whose experts are `experts` (one entry per row).
    init(experts: [Int]) {
        var byExpert: [Int: [Int32]] = [:]
        for (row, expert) in experts.enumerated() { byExpert[expert, default: []].append(Int32(row)) }
        groups = byExpert.keys.sorted().map { ($0, byExpert[$0]!) }
        count = experts.count
    }

    /// One batch per expert holding its rows of `tensor` ([count, d]).
    func batches(of tensor: Tensor, ledger: MemoryLedger?, kind: TensorKind) -> [ExpertBatch] {
        groups.map { group in
            let rows = Tensor([group.rows.count, tensor.columns], kind: kind, ledger: ledger)
            gatherRows(tensor, index: group.rows, into: rows)
            return ExpertBatch(expert: group.expert, rows: rows)
        }
    }

    /// Puts the rows of each expert's result back at their request positions.
    func scatter(_ results: [Tensor], rows: Int, columns: Int, ledger: MemoryLedger?, kind: TensorKind) -> Tensor {
        let out = Tensor([rows, columns], kind: kind, ledger: ledger)
        for (group, result) in zip(groups, results) {
            for (i, row) in group.rows.enumerated() {
                (out.data + Int(row) * columns).update(from: result.data + i * columns, count: columns)
            }
        }
        return out
    }
}
