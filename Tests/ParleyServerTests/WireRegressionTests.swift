import ParleyWireHarness
import Testing

/// Inputs that once crashed the server, replayed through the whole pipeline on an embedded event loop (as FuzzWire
/// feeds it). A crash here stops the test run, which fails it.
@Suite struct WireRegressionTests {
    /// An HTTP request pipelined right behind a WebSocket upgrade request: NIO's upgrade handler replayed the
    /// already parsed request into the WebSocket frame decoder, which traps on anything but bytes. One connection
    /// brought the whole server down (FuzzWire found it). Now that connection is closed and nothing is left.
    @Test func aRequestPipelinedBehindAWebSocketUpgradeClosesTheConnection() {
        let harness = WireHarness()
        let request =
            "GET / HTTP/1.1\r\nUpgrade:websocket\r\nCn: Up\r\nSec-WebSocket-Key: =\r\nSec-WebSocket-Version: 13\r\n\r\n"
            + "POST / HTTP/1.1\r\nCo:3\r\n\r\nIn"
        let written = harness.connection([Array(request.utf8)])
        #expect(written > 0, "the 101 response went out before the close")
        #expect(harness.leftovers.sessions == 0 && harness.leftovers.slots == 0)
    }

    /// A WebSocket upgrade request that announces a body and closes before sending it: NIO's upgrade handler waited
    /// for the end of the request holding a closure over its own context, so the closed connection's pipeline was
    /// never freed (about 5 KB each; 20,000 such connections grew a server by over 100 MB). FuzzWire's leak check found
    /// it. Such a request is now refused as plain HTTP, and the pipeline is freed.
    @Test func anUpgradeRequestWithABodyThatNeverComesLeavesNothingInMemory() {
        let harness = WireHarness()
        for body in ["Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n"] {
            let request =
                "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(body)\r\n"
            harness.connection([Array(request.utf8)])
            #expect(harness.lastPipelineFreed, "the connection's pipeline is freed (\(body))")
            #expect(harness.leftovers.sessions == 0 && harness.leftovers.slots == 0)
        }
        let upgrade =
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let written = harness.connection([Array(upgrade.utf8)])
        #expect(written > 0 && harness.lastPipelineFreed, "a real upgrade still works and is freed after it")
    }
}
