import Testing
@testable import PCMoECore

@Test func ledgerCountsTensorLifetime() {
    let ledger = MemoryLedger()
    do {
        let a = Tensor([4, 8], kind: .parameters, ledger: ledger)
        #expect(ledger.currentBytes(.parameters) == 128)
        _ = Tensor([2], kind: .activations, ledger: ledger)
        #expect(a.count == 32)
    }
    #expect(ledger.currentBytes(.parameters) == 0)
    #expect(ledger.currentBytes(.activations) == 0)
    #expect(ledger.peakBytes(.parameters) == 128)
    #expect(ledger.peakBytes(.activations) == 8)
    #expect(ledger.peakTotalBytes == 136)
}
