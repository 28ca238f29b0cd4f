import ParleyServer
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
}
