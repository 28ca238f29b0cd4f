import FuzzDriver
import ParleyWireHarness

/// What a connection's first bytes lead to: the sniffer, the HTTP decoder and handler, the WebSocket upgrade and
/// frame decoder, the IRC-over-WebSocket adapter and the session, all on an embedded event loop. A byte 0xFF splits
/// the input into separate reads (0xFF never appears in HTTP, and the splits matter to the sniffer). After each
/// connection closes, no session and no connection slot may be left behind, and its pipeline must be freed.
nonisolated(unsafe) let harness = WireHarness()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let chunks = bytes.split(separator: 0xFF, omittingEmptySubsequences: false).map { Array($0) }
    harness.connection(chunks)
    let left = harness.leftovers
    precondition(left.sessions == 0 && left.slots == 0, "a closed connection left \(left) behind")
    precondition(harness.lastPipelineFreed, "a closed connection's pipeline was never freed")
    return 0
}

runLibFuzzer { fuzz($0, $1) }
