import ParleyServer

#if canImport(Glibc)
import Glibc
#endif

/// What a connection's first bytes lead to: the sniffer, the HTTP decoder and handler, the WebSocket upgrade and
/// frame decoder, the IRC-over-WebSocket adapter and the session, all on an embedded event loop. A byte 0xFF splits
/// the input into separate reads (0xFF never appears in HTTP, and the splits matter to the sniffer). After each
/// connection closes, no session and no connection slot may be left behind.
nonisolated(unsafe) let harness = WireHarness()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let chunks = bytes.split(separator: 0xFF, omittingEmptySubsequences: false).map { Array($0) }
    harness.connection(chunks)
    let left = harness.leftovers
    precondition(left.sessions == 0 && left.slots == 0, "a closed connection left \(left) behind")
    return 0
}

// SwiftPM links an executable's top-level code as its `main`, so libFuzzer's own `main` is not used: start its
// driver from here.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

var argumentCount = CommandLine.argc
var arguments = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argumentCount, &arguments) { fuzz($0, $1) })
