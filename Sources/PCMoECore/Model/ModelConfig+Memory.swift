import Foundation

extension ModelConfig {
    /// Estimates the number of float32 values in the weights with every expert,
    /// in Double so that absurd sizes cannot overflow.
    public var parameterCountEstimate: Double {
        let (d, f, e, l, v) = (Double(dModel), Double(expertHidden), Double(experts), Double(layers),
                               Double(Self.vocabulary))
        return 2 * v * d + d + l * (4 * d * d + 2 * d + d * e + e * 3 * d * f)
    }

    /// Estimates the bytes one training step uses at its peak with `batch` sequences:
    /// weights, gradients and two optimizer moments (16 bytes per value), plus
    /// the activations kept for the backward pass, estimated from above.
    public func trainingBytesEstimate(batch: Int) -> Double {
        let (d, f, n) = (Double(dModel), Double(expertHidden), Double(batch) * Double(sequence))
        let attentionProbs = Double(batch) * Double(heads) * Double(sequence) * Double(sequence)
        let perLayer = 16 * n * d + 2 * attentionProbs + 4 * n * Double(experts) + Double(topK) * n * (4 * f + 3 * d)
        let activations = Double(layers) * perLayer + 4 * n * (d + Double(Self.vocabulary))
        // Each tensor also costs its object, its name and list entries: about
        // 4 KiB across the weights, gradients and two moments, from above.
        let perTensor = 4096 * tensorCountEstimate
        return 16 * parameterCountEstimate + 4 * activations + perTensor
    }

    /// Estimates the number of weight tensors with every expert.
    public var tensorCountEstimate: Double {
        3 + Double(layers) * (7 + 3 * Double(experts))
    }

    /// Checks that the largest tensor fits a BLAS index and that training
    /// with `batch` sequences fits in this machine's memory.
    /// - Throws: ``PCMoEError/invalidArgument(_:)`` with the sizes and the limit.
    public func validateMemory(batch: Int) throws {
        let n = Double(batch) * Double(sequence)
        let largest = [Double(dModel) * Double(expertHidden), Double(dModel) * Double(dModel),
                       n * Double(max(expertHidden, dModel, Self.vocabulary)),
                       Double(sequence) * Double(sequence), n * Double(topK)].max()!
        guard largest <= Double(Int32.max) else {
            throw PCMoEError.invalidArgument(
                String(format: "a tensor of these sizes would contain %.3g values, more than the %d a BLAS call can index; use smaller sizes or a smaller batch.", largest, Int32.max))
        }
        // A checkpoint lists weights and two moments; each header entry
        // takes at most about 160 bytes.
        let headerBytes = 3 * tensorCountEstimate * 160
        guard headerBytes <= Double(SafeTensors.maxHeaderBytes) else {
            throw PCMoEError.invalidArgument(String(
                format: "a checkpoint of %.0f layers × %.0f experts would list %.0f tensors, more than a checkpoint header can hold; use fewer layers or experts.",
                Double(layers), Double(experts), 3 * tensorCountEstimate))
        }
        let needed = trainingBytesEstimate(batch: batch)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed <= available else {
            if batch == 1 {
                throw PCMoEError.invalidArgument(String(
                    format: "these model sizes need about %.1f GiB to train even at batch 1, more than the %.1f GiB of memory of this machine; use smaller sizes.",
                    needed / 1_073_741_824, available / 1_073_741_824))
            }
            throw PCMoEError.invalidArgument(String(
                format: "training with these sizes and batch %d needs about %.1f GiB, more than the %.1f GiB of memory of this machine; use smaller sizes or a smaller batch.",
                batch, needed / 1_073_741_824, available / 1_073_741_824))
        }
    }
}
