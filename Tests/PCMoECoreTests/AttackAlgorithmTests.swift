import Foundation
import Testing
@testable import PCMoECore

// Positive and negative controls for the attack algorithms on synthetic rows.
// A "leaky" row is a fixed random vector per byte plus small noise, so the
// byte is recoverable. A "noise" row does not depend on the byte at all.

/// English prose written for these tests: the victim's text and the
/// reference corpus of the same-text controls.
private let harbourText = """
    The harbour town woke slowly on winter mornings. Fishermen walked down to the boats before the \
    light came, carrying nets and flasks of tea, and the baker opened his shop a little after six. \
    Most of the houses were painted white or pale blue, and the wind from the sea kept the paint \
    peeling, so every spring the street smelled of fresh paint for a week. Children went to a small \
    school on the hill, where one teacher taught reading, numbers and the names of the birds that \
    nested on the cliffs. In the evenings people gathered in the hall to play cards, mend sails or \
    argue about the weather. Nobody could agree whether the storms were getting worse, but everyone \
    agreed that the old lighthouse needed a new lamp. The keeper, a patient woman named Ada, had \
    written to the council three times. Each letter explained that the lamp flickered when the \
    generator was cold, and that ships from the north relied on it to find the channel between the \
    rocks. The council answered that the money would come next year, as it had answered the year \
    before. So Ada kept a box of candles and a second lantern by the stairs, and on the worst nights \
    she climbed to the top every hour to check the flame. Her brother repaired engines in a shed \
    near the quay. He was quiet, careful and slow, and he could make almost any machine run again \
    with a few spare parts and a great deal of time. When the ferry broke down in the middle of \
    March, the captain asked him to look at it, and he spent four days inside the engine room with a \
    torch and a notebook. On the fifth day the ferry sailed, and half the town stood on the pier to \
    watch it leave. Summer brought visitors who rented rooms above the shops and walked along the \
    beach looking for shells. They bought postcards, ate fried fish from paper and asked the same \
    questions about the lighthouse. Some of them climbed the path to the cliffs to watch the \
    puffins, and a few of them stayed until the autumn because they liked the quiet. The school \
    grew by two pupils that year, and the teacher asked the council for a second classroom. The \
    answer, again, was that the money would come next year. In October a large storm came in from \
    the west. The boats stayed in the harbour for three days, the ferry did not run, and the power \
    failed on the second night. Ada lit the candles, then the lantern, and kept the light burning \
    until morning while the waves broke over the rocks below. A cargo ship passed safely through the \
    channel a little after midnight, and its captain later sent a letter of thanks to the town. \
    The letter was read aloud in the hall, and the next week the council found the money for a new \
    lamp. Her brother fitted it in a single afternoon, and that evening the whole town walked up the \
    hill to see it shine across the water for the first time.
    """

/// Different English prose, used as the reference corpus of the
/// different-text controls: its byte frequencies only roughly match.
private let kitchenText = """
    A good soup starts with a heavy pot, a sharp knife and enough patience to let the onions soften \
    without letting them burn. Cut them thin, add a spoon of butter and a pinch of salt, and stir \
    them now and then over a low flame until they turn golden. Carrots and celery follow, chopped \
    into small cubes of about the same size so that they cook evenly. Garlic goes in last, because \
    it turns bitter when it browns too long. Pour in the stock when the kitchen smells sweet, raise \
    the heat until the surface trembles, and then lower it again; a soup that boils hard becomes \
    cloudy and loses its flavour. Potatoes, beans or lentils make it filling, while fresh herbs \
    added at the very end keep it bright. Taste often. Most soups need more salt than the cook \
    expects, and a squeeze of lemon or a splash of vinegar can wake up a pot that tastes flat. Bread \
    is the natural companion. A simple loaf needs only flour, water, yeast and salt, but it asks for \
    time: the dough must rise twice, and each rise is slower in a cold room. Knead it on a floured \
    table until it feels smooth and springs back when pressed with a finger. Shape it gently, cover \
    it with a damp cloth and leave it near the stove. Bake it in a very hot oven, with a tray of \
    water on the bottom shelf so that the crust forms slowly and cracks in long lines. Tap the base \
    when it comes out: a hollow sound means it is done. Let it cool before cutting, or the crumb \
    will be gummy. Leftover bread is never wasted in a careful kitchen. Stale slices become crumbs \
    for coating fish, croutons for salads, or the base of a pudding baked with milk, eggs, sugar and \
    a handful of raisins. Vegetable peels and bones go into a bag in the freezer, and once the bag \
    is full they are simmered into the next batch of stock. Even the water left from boiling pasta \
    has a use, since its starch helps a sauce cling to the noodles. Cooking for friends is mostly a \
    matter of planning. Choose dishes that can be prepared in the morning and finished quickly in \
    the evening, so that the cook can sit at the table rather than stand at the stove. A large salad, \
    a baked dish and a simple dessert of fruit with cream will feed eight people without fuss, and \
    nobody will remember whether the plates matched.
    """

/// Rows of `dimension` floats for `bytes`: a fixed normal(0, 1) vector per byte plus normal(0, `noise`) noise.
private func leakyRows(_ bytes: [UInt8], dimension: Int, noise: Double, seed: UInt64) -> [Float] {
    var generator = SplitMix64(seed: seed, label: "byte vectors")
    let vectors = (0..<256).map { _ in (0..<dimension).map { _ in generator.nextNormal() } }
    var noiseGenerator = SplitMix64(seed: seed, label: "noise")
    return bytes.flatMap { byte in
        vectors[Int(byte)].map { Float($0 + noiseGenerator.nextNormal(std: noise)) }
    }
}

/// Rows of normal(0, 1) values that do not depend on the bytes.
private func noiseRows(count: Int, dimension: Int, seed: UInt64) -> [Float] {
    var generator = SplitMix64(seed: seed, label: "noise rows")
    return (0..<(count * dimension)).map { _ in Float(generator.nextNormal()) }
}

/// Returns the share of rows whose cluster's most common true label is their own label.
private func purity(assignments: [Int], labels: [Int]) -> Double {
    var counts: [Int: [Int: Int]] = [:]
    for (cluster, label) in zip(assignments, labels) { counts[cluster, default: [:]][label, default: 0] += 1 }
    let majority = counts.values.map { $0.values.max()! }.reduce(0, +)
    return Double(majority) / Double(labels.count)
}

/// Clusters `rows` into as many clusters as `bytes` has distinct values and labels them by frequency rank.
private func frequencyAttack(rows: [Float], bytes: [UInt8], dimension: Int, reference: [Double]) throws -> AttackScore {
    let clusters = Set(bytes).count
    let kmeans = try KMeans(rows: rows, dimension: dimension, options: KMeansOptions(clusters: clusters, seed: 7))
    let labels = FrequencyLabeling.labels(sizes: kmeans.clusterSizes, reference: reference)
    let predicted = FrequencyLabeling.bytes(symbols: kmeans.assignments, labels: labels)
    return AttackScore(predicted: predicted, truth: bytes)
}

// MARK: - KMeans

/// Well-separated Gaussian blobs: 8 centers of normal(0, 4) in 16 dimensions, 150 rows each with noise 0.3.
private func blobs() -> (rows: [Float], labels: [Int]) {
    var generator = SplitMix64(seed: 11)
    let centers = (0..<8).map { _ in (0..<16).map { _ in generator.nextNormal(std: 4) } }
    var rows: [Float] = []
    var labels: [Int] = []
    for index in 0..<(8 * 150) {
        let blob = index % 8
        rows += centers[blob].map { Float($0 + generator.nextNormal(std: 0.3)) }
        labels.append(blob)
    }
    return (rows, labels)
}

@Test func kmeansRecoversSeparatedBlobs() throws {
    let (rows, labels) = blobs()
    let kmeans = try KMeans(rows: rows, dimension: 16, options: KMeansOptions(clusters: 8, seed: 3))
    #expect(kmeans.clusterCount == 8)
    #expect(purity(assignments: kmeans.assignments, labels: labels) > 0.95)
    #expect(kmeans.assign(rows) == kmeans.assignments)
}

@Test func kmeansIsDeterministicForSeed() throws {
    let (rows, _) = blobs()
    let first = try KMeans(rows: rows, dimension: 16, options: KMeansOptions(clusters: 12, seed: 5))
    let second = try KMeans(rows: rows, dimension: 16, options: KMeansOptions(clusters: 12, seed: 5))
    #expect(first.centroids == second.centroids)
    #expect(first.assignments == second.assignments)
}

@Test func kmeansAssignMatchesBruteForce() throws {
    let dimension = 24
    let rows = noiseRows(count: 700, dimension: dimension, seed: 8)
    let kmeans = try KMeans(rows: rows, dimension: dimension, options: KMeansOptions(clusters: 40, seed: 2))
    let queries = noiseRows(count: 300, dimension: dimension, seed: 9)
    var mismatches = 0
    for (row, cluster) in kmeans.assign(queries).enumerated() {
        let distances = (0..<kmeans.clusterCount).map { c in
            (0..<dimension).reduce(0.0) { sum, j in
                let difference = Double(queries[row * dimension + j]) - Double(kmeans.centroids[c * dimension + j])
                return sum + difference * difference
            }
        }
        // The sgemm form rounds differently, so a near-tie may pick the other centroid.
        if distances[cluster] > distances.min()! + 1e-3 { mismatches += 1 }
    }
    #expect(mismatches == 0)
}

@Test func kmeansWithFewerRowsThanClusters() throws {
    let rows: [Float] = [0, 0, 5, 5, -5, 5, 9, -9]
    let kmeans = try KMeans(rows: rows, dimension: 2, options: KMeansOptions(clusters: 10, seed: 1))
    #expect(kmeans.clusterCount == 4)
    #expect(Set(kmeans.assignments).count == 4)
    #expect(kmeans.inertia < 1e-6)
}

@Test func kmeansWithDuplicateRows() throws {
    // Three distinct rows, five clusters: two clusters stay empty after re-seeding.
    let rows = (0..<30).flatMap { i -> [Float] in [Float(i % 3) * 10, 1] }
    let kmeans = try KMeans(rows: rows, dimension: 2, options: KMeansOptions(clusters: 5, seed: 4))
    #expect(kmeans.clusterCount == 5)
    #expect(Set(kmeans.assignments).count == 3)
    #expect(kmeans.clusterSizes.reduce(0, +) == 30)
    #expect(kmeans.inertia < 1e-6)
}

@Test func kmeansRejectsInvalidArguments() {
    #expect(throws: PCMoEError.self) { try KMeans(rows: [], dimension: 2, options: KMeansOptions(clusters: 2, seed: 0)) }
    #expect(throws: PCMoEError.self) { try KMeans(rows: [1, 2, 3], dimension: 2, options: KMeansOptions(clusters: 2, seed: 0)) }
    #expect(throws: PCMoEError.self) { try KMeans(rows: [1, 2], dimension: 2, options: KMeansOptions(clusters: 0, seed: 0)) }
}

// MARK: - Labeling

@Test func frequencyLabelingRanksBySize() {
    var reference = [Double](repeating: 0, count: 256)
    reference[Int(UInt8(ascii: "a"))] = 0.5
    reference[Int(UInt8(ascii: "b"))] = 0.3
    reference[Int(UInt8(ascii: "c"))] = 0.2
    let labels = FrequencyLabeling.labels(sizes: [5, 10, 1], reference: reference)
    #expect(labels == [UInt8(ascii: "b"), UInt8(ascii: "a"), UInt8(ascii: "c")])
}

@Test func frequencyLabelingBeyond256Symbols() {
    // 'a' expects 492 of 656 rows and gets 300 by rank, so the two symbols past
    // rank 256 both go to 'a', whose shortfall stays the largest.
    var reference = [Double](repeating: 0, count: 256)
    reference[Int(UInt8(ascii: "a"))] = 0.75
    reference[Int(UInt8(ascii: "b"))] = 0.25
    let sizes = [300, 100] + [Int](repeating: 1, count: 256)
    let labels = FrequencyLabeling.labels(sizes: sizes, reference: reference)
    #expect(labels.count == 258)
    #expect(labels[0] == UInt8(ascii: "a"))
    #expect(labels[1] == UInt8(ascii: "b"))
    #expect(Set(labels[0..<256]).count == 256)
    #expect(labels[256] == UInt8(ascii: "a"))
    #expect(labels[257] == UInt8(ascii: "a"))
}

@Test func frequencyLabelingSkipsFixedBytes() {
    var reference = [Double](repeating: 0, count: 256)
    reference[Int(UInt8(ascii: "a"))] = 0.5
    reference[Int(UInt8(ascii: "b"))] = 0.3
    reference[Int(UInt8(ascii: "c"))] = 0.2
    let labels = FrequencyLabeling.labels(sizes: [5, 10, 1], reference: reference, fixed: [1: UInt8(ascii: "c")])
    #expect(labels == [UInt8(ascii: "a"), UInt8(ascii: "c"), UInt8(ascii: "b")])
}

@Test func byteFrequenciesSumToOne() {
    let frequencies = byteFrequencies(of: Array("abca".utf8))
    #expect(frequencies.count == 256)
    #expect(frequencies[Int(UInt8(ascii: "a"))] == 0.5)
    #expect(abs(frequencies.reduce(0, +) - 1) < 1e-12)
    #expect(byteFrequencies(of: [UInt8]()).allSatisfy { $0 == 0 })
}

@Test func frequencyAttackOnLeakyRowsSameText() throws {
    let bytes = Array(harbourText.utf8)
    let rows = leakyRows(bytes, dimension: 32, noise: 0.05, seed: 1)
    let score = try frequencyAttack(rows: rows, bytes: bytes, dimension: 32, reference: byteFrequencies(of: bytes))
    #expect(score.accuracy > 0.8)
    #expect(score.baseline < 0.25)
}

@Test func frequencyAttackOnLeakyRowsOtherText() throws {
    let bytes = Array(harbourText.utf8)
    let rows = leakyRows(bytes, dimension: 32, noise: 0.05, seed: 1)
    let reference = byteFrequencies(of: Array(kitchenText.utf8))
    let score = try frequencyAttack(rows: rows, bytes: bytes, dimension: 32, reference: reference)
    #expect(score.accuracy > score.baseline + 0.2)
}

@Test func frequencyAttackOnNoiseRowsStaysAtBaseline() throws {
    let bytes = Array(harbourText.utf8)
    let rows = noiseRows(count: bytes.count, dimension: 32, seed: 2)
    let score = try frequencyAttack(rows: rows, bytes: bytes, dimension: 32, reference: byteFrequencies(of: bytes))
    #expect(score.accuracy < score.baseline + 0.05)
}

@Test func knownPlaintextBeatsFrequencyLabeling() throws {
    let bytes = Array(harbourText.utf8)
    let rows = leakyRows(bytes, dimension: 32, noise: 0.05, seed: 1)
    let reference = byteFrequencies(of: Array(kitchenText.utf8))
    let kmeans = try KMeans(rows: rows, dimension: 32, options: KMeansOptions(clusters: Set(bytes).count, seed: 7))

    var generator = SplitMix64(seed: 12)
    var known: [Int: UInt8] = [:]
    for index in bytes.indices where generator.nextUnit() < 0.05 { known[index] = bytes[index] }
    let knownLabels = KnownPlaintextLabeling.labels(symbols: kmeans.assignments, symbolCount: kmeans.clusterCount,
                                                    known: known, reference: reference)
    let frequencyLabels = FrequencyLabeling.labels(sizes: kmeans.clusterSizes, reference: reference)
    let knownScore = AttackScore(predicted: FrequencyLabeling.bytes(symbols: kmeans.assignments, labels: knownLabels),
                                 truth: bytes)
    let frequencyScore = AttackScore(
        predicted: FrequencyLabeling.bytes(symbols: kmeans.assignments, labels: frequencyLabels), truth: bytes)
    #expect(knownScore.accuracy > 0.9)
    #expect(knownScore.accuracy > frequencyScore.accuracy + 0.1)
}

@Test func knownPlaintextTakesMajorityByte() {
    let symbols = [0, 0, 0, 1, 1, 2]
    let known: [Int: UInt8] = [0: 7, 1: 9, 2: 9, 3: 4]
    let reference = (0..<256).map { Double(256 - $0) }
    let labels = KnownPlaintextLabeling.labels(symbols: symbols, symbolCount: 3, known: known, reference: reference)
    #expect(labels[0] == 9)
    #expect(labels[1] == 4)
    // Symbol 2 has no known row: it takes byte 0, the most frequent reference byte not used by a known label.
    #expect(labels[2] == 0)
}

// MARK: - InversionModel

/// Returns bytes drawn uniformly from all 256 values.
private func uniformBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

@Test func inversionModelLearnsLeakyRows() throws {
    let (dimension, training, heldOut) = (32, 8000, 2000)
    let bytes = uniformBytes(count: training + heldOut, seed: 3)
    let rows = leakyRows(bytes, dimension: dimension, noise: 0.4, seed: 4)
    var options = InversionModelOptions()
    options.hiddenWidth = 128
    options.epochs = 8
    let model = try InversionModel(rows: Array(rows[..<(training * dimension)]), bytes: Array(bytes[..<training]),
                                   dimension: dimension, options: options)
    let predicted = model.predict(Array(rows[(training * dimension)...]))
    let score = AttackScore(predicted: predicted, truth: Array(bytes[training...]))
    #expect(score.accuracy > 0.9)
    #expect(model.finalLoss < 0.5)
}

@Test func softmaxRegressionLearnsLeakyRows() throws {
    let (dimension, training, heldOut) = (32, 8000, 2000)
    let bytes = uniformBytes(count: training + heldOut, seed: 5)
    let rows = leakyRows(bytes, dimension: dimension, noise: 0.4, seed: 6)
    var options = InversionModelOptions()
    options.hiddenWidth = 0
    options.epochs = 8
    options.learningRate = 1e-2
    let model = try InversionModel(rows: Array(rows[..<(training * dimension)]), bytes: Array(bytes[..<training]),
                                   dimension: dimension, options: options)
    let predicted = model.predict(Array(rows[(training * dimension)...]))
    #expect(AttackScore.accuracy(predicted: predicted, truth: Array(bytes[training...])) > 0.9)
}

@Test func inversionModelOnNoiseRowsStaysAtBaseline() throws {
    let bytes = Array(harbourText.utf8)
    let dimension = 32
    let training = bytes.count * 4 / 5
    let rows = noiseRows(count: bytes.count, dimension: dimension, seed: 6)
    var options = InversionModelOptions()
    options.hiddenWidth = 64
    options.epochs = 5
    let model = try InversionModel(rows: Array(rows[..<(training * dimension)]), bytes: Array(bytes[..<training]),
                                   dimension: dimension, options: options)
    let truth = Array(bytes[training...])
    let score = AttackScore(predicted: model.predict(Array(rows[(training * dimension)...])), truth: truth)
    #expect(score.accuracy < score.baseline + 0.05)
}

@Test func inversionModelIsDeterministicForSeed() throws {
    let bytes = uniformBytes(count: 1000, seed: 8)
    let rows = leakyRows(bytes, dimension: 16, noise: 0.5, seed: 9)
    var options = InversionModelOptions()
    options.hiddenWidth = 32
    options.epochs = 2
    options.seed = 21
    let first = try InversionModel(rows: rows, bytes: bytes, dimension: 16, options: options)
    let second = try InversionModel(rows: rows, bytes: bytes, dimension: 16, options: options)
    #expect(first.finalLoss == second.finalLoss)
    #expect(first.predict(rows) == second.predict(rows))
}

@Test func inversionModelRejectsMismatchedBytes() {
    #expect(throws: PCMoEError.self) { try InversionModel(rows: [1, 2, 3, 4], bytes: [1], dimension: 2) }
    #expect(throws: PCMoEError.self) { try InversionModel(rows: [], bytes: [], dimension: 2) }
}

// MARK: - RoutingSymbols and AttackScore

@Test func routingSymbolsOfEqualPatterns() {
    var table = RoutingSymbols()
    let symbols = table.symbols(for: [
        [[1, 3], [], [0]],
        [[3, 1], [], [0, 0]],  // the same experts in another order, with a repeat
        [[1, 3], [], [0], []],  // a trailing empty layer is an absent layer
        [[1], [3], [0]],
        [],
        [[], []],
    ])
    #expect(symbols[0] == symbols[1])
    #expect(symbols[0] == symbols[2])
    #expect(symbols[3] != symbols[0])
    #expect(symbols[4] == symbols[5])
    #expect(symbols[4] != symbols[0])
    #expect(symbols[4] != symbols[3])
    #expect(table.count == 3)
    #expect(symbols == [0, 0, 0, 1, 2, 2])
}

@Test func routingSymbolsLookupWithoutAdding() {
    let table = RoutingSymbols(tokens: [[[2]], [[], [2]]])
    #expect(table.existingSymbol(for: [[2], []]) == 0)
    #expect(table.existingSymbol(for: [[], [2]]) == 1)
    #expect(table.existingSymbol(for: [[2], [2]]) == nil)
    #expect(table.patterns[1].description == "|2")
}

@Test func attackScoreCountsMatches() {
    let score = AttackScore(predicted: [1, 2, 3, 3], truth: [1, 2, 2, 2])
    #expect(score.accuracy == 0.5)
    #expect(score.baseline == 0.75)
    #expect(score.count == 4)
    #expect(AttackScore(predicted: [], truth: []).accuracy == 0)
}
