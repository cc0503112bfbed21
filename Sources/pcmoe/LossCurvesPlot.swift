import Foundation
import PCMoECore

/// Draws each party's training loss by round as a standalone SVG document:
/// one panel per party (a grid when there are more than 3) and one line per mode.
///
/// Each line is a centered moving average over about `rounds / 25` rounds
/// (an odd window, cut short at both ends), and every panel has the same
/// y range so that panels compare directly. Non-finite losses are skipped.
/// When there are no rounds, no parties or no finite loss, the document
/// contains only a note that there is nothing to plot.
func lossCurvesSVG(_ outcomes: [ModeOutcome], partyNames: [String]) -> String {
    let rounds = outcomes.map(\.rounds).max() ?? 0
    let partyCount = max(partyNames.count, outcomes.map(\.losses.count).max() ?? 0)
    let halfWindow = max(1, rounds / 25) / 2
    let curves = outcomes.map { outcome in
        outcome.losses.map { smoothedLosses(Array($0.prefix(outcome.rounds)), halfWindow: halfWindow) }
    }
    let values = curves.joined().joined().compactMap { $0 }
    guard rounds > 0, partyCount > 0, let low = values.min(), let high = values.max() else {
        return emptyPlotSVG(note: "Nothing to plot: the comparison has no rounds or no finite training loss.")
    }

    let xAxis = PlotAxis(from: 0, to: Double(rounds), minStep: 1)
    let yAxis = lossAxis(low: low, high: high)
    let columns = partyCount <= 3 ? partyCount : Int(Double(partyCount).squareRoot().rounded(.up))
    let rows = (partyCount + columns - 1) / columns
    let heading = halfWindow == 0 ? "Training loss per round"
        : "Training loss, centered moving average over \(2 * halfWindow + 1) rounds"
    let width = 2 * PlotLayout.pagePadding + max(Double(columns) * PlotLayout.cellWidth,
                                                  Double(heading.count) * PlotLayout.boldCharacterWidth)
    let legend = legendSVG(modes: outcomes.map(\.mode), top: 40, width: width)
    let gridTop = 40 + legend.height + 8
    let height = gridTop + Double(rows) * PlotLayout.cellHeight + PlotLayout.pagePadding

    var body = textSVG(heading, x: PlotLayout.pagePadding, y: 24, size: 14, extra: " font-weight=\"bold\"")
    body += legend.svg
    for party in 0..<partyCount {
        let cellLeft = PlotLayout.pagePadding + Double(party % columns) * PlotLayout.cellWidth
        let cellTop = gridTop + Double(party / columns) * PlotLayout.cellHeight
        let frame = PlotFrame(left: cellLeft + PlotLayout.marginLeft, top: cellTop + PlotLayout.marginTop,
                              xAxis: xAxis, yAxis: yAxis)
        let name = party < partyNames.count ? partyNames[party] : nil
        body += panelSVG(party: party, name: name, frame: frame, modes: outcomes.map(\.mode), curves: curves)
    }
    return svgDocument(width: width, height: height, body: body)
}

/// Sizes of the drawing, in SVG user units (pixels).
private enum PlotLayout {
    static let pagePadding = 16.0
    static let plotWidth = 320.0
    static let plotHeight = 210.0
    static let marginLeft = 62.0
    static let marginTop = 30.0
    static let cellWidth = marginLeft + plotWidth + 18
    static let cellHeight = marginTop + plotHeight + 50
    /// Rough widths of one character in plain text at font size 12 and in
    /// bold titles, used to size the page, wrap the legend and shorten titles,
    /// because the width of text is known only when a viewer renders it.
    static let characterWidth = 6.8
    static let boldCharacterWidth = 8.5
}

/// An axis range with round-numbered ticks.
private struct PlotAxis {
    var low: Double
    var high: Double
    var ticks: [Double]

    /// Picks the smallest step of 1, 2, 2.5 or 5 times a power of ten (and at
    /// least `minStep`) that gives 4 to 6 ticks inside `from...to`. When no
    /// such step exists, widens the range outwards to multiples of the
    /// smallest step that gives at most 6 ticks, which then gives at least 4
    /// whenever the range spans at least 3 steps of `minStep`.
    init(from low: Double, to high: Double, minStep: Double) {
        let steps = PlotAxis.candidateSteps(span: high - low, minStep: minStep)
        // The tolerance keeps a tick that sits on a bound despite rounding error.
        let inside = { (step: Double) in TickIndices(first: (low / step - 1e-9).rounded(.up),
                                                      last: (high / step + 1e-9).rounded(.down)) }
        if let step = steps.first(where: { (4...6).contains(inside($0).count) }) {
            self.init(low: low, high: high, indices: inside(step), step: step)
            return
        }
        let outside = { (step: Double) in TickIndices(first: (low / step + 1e-9).rounded(.down),
                                                       last: (high / step - 1e-9).rounded(.up)) }
        let step = steps.first(where: { outside($0).count <= 6 }) ?? steps[steps.count - 1]
        let indices = outside(step)
        let widenedLow = min(low, indices.first * step), widenedHigh = max(high, indices.last * step)
        self.init(low: widenedLow, high: widenedHigh, indices: indices, step: step)
    }

    private init(low: Double, high: Double, indices: TickIndices, step: Double) {
        self.low = low
        self.high = high
        ticks = indices.count == 0 ? [] : (0..<indices.count).map { (indices.first + Double($0)) * step }
    }

    /// Lists steps of 1, 2, 2.5 and 5 times a power of ten in ascending order,
    /// from a thousandth of the power of ten at or above `span` up to 5 times it.
    /// Steps that are not whole multiples of `minStep` are left out, so labels
    /// need no more decimals than `minStep` has.
    private static func candidateSteps(span: Double, minStep: Double) -> [Double] {
        let top = Int(log10(max(span, minStep)).rounded(.up))
        let steps = (top - 3...top).flatMap { power in [1, 2, 2.5, 5].map { $0 * pow(10, Double(power)) } }
        let allowed = steps.filter { step in
            step >= minStep * 0.999 && abs((step / minStep).rounded() - step / minStep) < 1e-6
        }
        return allowed.isEmpty ? [minStep] : allowed
    }
}

/// The whole numbers `first ... last`, each a multiple of an axis step.
private struct TickIndices {
    var first: Double
    var last: Double
    var count: Int { max(0, Int(last - first) + 1) }
}

/// Builds the shared y axis from the smoothed range plus a margin of 4% of it
/// on each side. The range is widened to at least 0.04 nats so that ticks
/// written with 2 decimals stay distinct.
private func lossAxis(low: Double, high: Double) -> PlotAxis {
    let centre = (low + high) / 2
    let half = max((high - low) / 2 * 1.08, 0.02)
    return PlotAxis(from: centre - half, to: centre + half, minStep: 0.01)
}

/// Averages `losses` over `2 * halfWindow + 1` rounds centered on each round,
/// using the finite values only. A round whose own loss is not finite becomes nil.
private func smoothedLosses(_ losses: [Double], halfWindow: Int) -> [Double?] {
    losses.indices.map { round in
        guard losses[round].isFinite else { return nil }
        let window = losses[max(0, round - halfWindow)...min(losses.count - 1, round + halfWindow)]
        let finite = window.filter(\.isFinite)
        let mean = finite.reduce(0, +) / Double(finite.count)
        // The sum of finite values can still overflow to infinity.
        return mean.isFinite ? mean : nil
    }
}

/// The plot area of one panel and the mapping from data to SVG coordinates.
private struct PlotFrame {
    var left: Double
    var top: Double
    var xAxis: PlotAxis
    var yAxis: PlotAxis
    var right: Double { left + PlotLayout.plotWidth }
    var bottom: Double { top + PlotLayout.plotHeight }

    func x(_ value: Double) -> Double {
        left + (value - xAxis.low) / (xAxis.high - xAxis.low) * PlotLayout.plotWidth
    }

    func y(_ value: Double) -> Double {
        bottom - (value - yAxis.low) / (yAxis.high - yAxis.low) * PlotLayout.plotHeight
    }
}

/// Draws one party's panel: title, grid, axes and one line per mode.
private func panelSVG(party: Int, name: String?, frame: PlotFrame, modes: [ComparisonMode],
                      curves: [[[Double?]]]) -> String {
    let prefix = "party \(party)"
    let room = Int((PlotLayout.plotWidth + PlotLayout.marginLeft) / PlotLayout.boldCharacterWidth) - prefix.count - 2
    let title = name.map { "\(prefix): \(shortened($0, toCharacters: room))" } ?? prefix
    var svg = textSVG(title, x: frame.left - PlotLayout.marginLeft + 4, y: frame.top - 12, size: 13,
                      extra: " font-weight=\"bold\"")
    svg += axesSVG(frame)
    for (mode, partyCurves) in zip(modes, curves) where party < partyCurves.count {
        svg += lineSVG(partyCurves[party], mode: mode, frame: frame)
    }
    return svg
}

/// Draws the grid lines, frame, tick labels and axis titles of one panel.
private func axesSVG(_ frame: PlotFrame) -> String {
    let gridStyle = " stroke=\"#e4e4e4\""
    var svg = ""
    for tick in frame.xAxis.ticks {
        svg += lineElementSVG(from: (frame.x(tick), frame.top), to: (frame.x(tick), frame.bottom), style: gridStyle)
        svg += textSVG(svgNumber(tick), x: frame.x(tick), y: frame.bottom + 16, size: 11, extra: " text-anchor=\"middle\"")
    }
    for tick in frame.yAxis.ticks {
        svg += lineElementSVG(from: (frame.left, frame.y(tick)), to: (frame.right, frame.y(tick)), style: gridStyle)
        svg += textSVG(svgNumber(tick), x: frame.left - 6, y: frame.y(tick) + 4, size: 11, extra: " text-anchor=\"end\"")
    }
    svg += "<rect x=\"\(svgNumber(frame.left))\" y=\"\(svgNumber(frame.top))\" width=\"\(svgNumber(PlotLayout.plotWidth))\" "
        + "height=\"\(svgNumber(PlotLayout.plotHeight))\" fill=\"none\" stroke=\"#555555\"/>\n"
    svg += textSVG("round", x: (frame.left + frame.right) / 2, y: frame.bottom + 36, size: 12,
                   extra: " text-anchor=\"middle\"")
    let middle = (frame.top + frame.bottom) / 2, labelX = frame.left - 46
    svg += textSVG("training loss (nats)", x: labelX, y: middle, size: 12,
                   extra: " text-anchor=\"middle\" transform=\"rotate(-90 \(svgNumber(labelX)) \(svgNumber(middle)))\"")
    return svg
}

/// Draws one mode's smoothed curve as a polyline, with round r at index r - 1.
/// A curve with a single point becomes a dot, because a one-point polyline is invisible.
private func lineSVG(_ curve: [Double?], mode: ComparisonMode, frame: PlotFrame) -> String {
    let points = curve.enumerated().compactMap { index, loss in
        loss.map { "\(svgNumber(frame.x(Double(index + 1)))),\(svgNumber(frame.y($0)))" }
    }
    guard !points.isEmpty else { return "" }
    let style = modeStyle(mode)
    if points.count == 1 {
        let xy = points[0].split(separator: ",")
        return "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(style.colour)\"/>\n"
    }
    let dash = style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
    return "<polyline fill=\"none\" stroke=\"\(style.colour)\" stroke-width=\"1.6\" stroke-linejoin=\"round\"\(dash) "
        + "points=\"\(points.joined(separator: " "))\"/>\n"
}

/// Draws the legend above the panels with one entry per distinct mode, in the
/// order given, and wraps it onto more rows when it is wider than `width`.
private func legendSVG(modes: [ComparisonMode], top: Double, width: Double) -> (svg: String, height: Double) {
    var seen = Set<ComparisonMode>(), svg = ""
    var x = PlotLayout.pagePadding, y = top + 10
    for mode in modes where seen.insert(mode).inserted {
        let entryWidth = 30 + Double(mode.rawValue.count) * PlotLayout.characterWidth + 18
        if x > PlotLayout.pagePadding && x + entryWidth > width - PlotLayout.pagePadding {
            x = PlotLayout.pagePadding
            y += 20
        }
        let style = modeStyle(mode)
        let dash = style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        svg += lineElementSVG(from: (x, y), to: (x + 24, y), style: " stroke=\"\(style.colour)\" stroke-width=\"2.5\"\(dash)")
        svg += textSVG(mode.rawValue, x: x + 30, y: y + 4, size: 12)
        x += entryWidth
    }
    return (svg, seen.isEmpty ? 0 : y - top + 10)
}

/// Returns the colour and dash pattern of a mode. The colours come from the
/// Okabe-Ito palette, which stays distinct under common colour blindness, and
/// are fixed per mode so that a mode looks the same in every run. The PC-MoE
/// wire variants are dashed because their curves often lie on top of the f32 one.
private func modeStyle(_ mode: ComparisonMode) -> (colour: String, dash: String?) {
    switch mode {
    case .pcmoe: return ("#0072B2", nil)
    case .pcmoePrivate: return ("#000000", nil)
    case .pcmoeBF16: return ("#56B4E9", "7 3")
    case .pcmoeF16: return ("#CC79A7", "2 3")
    case .centralized: return ("#009E73", nil)
    case .localShard: return ("#D55E00", nil)
    case .localFull: return ("#882255", nil)
    }
}

/// Builds a document that contains only `note`, for when there is nothing to plot.
private func emptyPlotSVG(note: String) -> String {
    let width = 2 * PlotLayout.pagePadding + Double(note.count) * PlotLayout.characterWidth
    return svgDocument(width: width, height: 60, body: textSVG(note, x: PlotLayout.pagePadding, y: 34, size: 12))
}

private func svgDocument(width: Double, height: Double, body: String) -> String {
    let w = svgNumber(width), h = svgNumber(height)
    return """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" \
        font-family="sans-serif">
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(body)</svg>

        """
}

/// Builds a `<line>` element. `style` contains further attributes, each with a leading space.
private func lineElementSVG(from start: (Double, Double), to end: (Double, Double), style: String) -> String {
    "<line x1=\"\(svgNumber(start.0))\" y1=\"\(svgNumber(start.1))\" x2=\"\(svgNumber(end.0))\" "
        + "y2=\"\(svgNumber(end.1))\"\(style)/>\n"
}

/// Builds a `<text>` element. `extra` contains further attributes, each with a leading space.
private func textSVG(_ text: String, x: Double, y: Double, size: Int, extra: String = "") -> String {
    "<text x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" font-size=\"\(size)\" fill=\"#222222\"\(extra)>"
        + "\(xmlEscaped(text))</text>\n"
}

/// Formats `value` with at most 2 decimals and no trailing zeros. A non-finite value becomes 0.
private func svgNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    var text = String(format: "%.2f", value)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text == "-0" ? "0" : text
}

/// Replaces the characters that are special in XML text and attributes with
/// entities, and control characters with "?".
private func xmlEscaped(_ text: String) -> String {
    // XML 1.0 allows no control characters other than tab, line feed and carriage return.
    let scalars = text.unicodeScalars.map { $0.value < 0x20 && !"\t\n\r".unicodeScalars.contains($0) ? "?" : $0 }
    var clean = String.UnicodeScalarView()
    clean.append(contentsOf: scalars)
    return String(clean)
        .replacingOccurrences(of: "&", with: "&amp;")
        .replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
        .replacingOccurrences(of: "'", with: "&apos;")
}

/// Cuts `text` longer than `limit` characters to an ellipsis and its last
/// `limit - 1` characters, because the end of a corpus path names it best.
private func shortened(_ text: String, toCharacters limit: Int) -> String {
    guard text.count > limit, limit > 1 else { return text }
    return "…" + text.suffix(limit - 1)
}
