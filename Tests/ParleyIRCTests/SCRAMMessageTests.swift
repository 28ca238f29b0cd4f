import ParleyIRC
import Testing

@Suite struct SCRAMMessageTests {
    @Test func clientFirstMessages() {
        // RFC 7677's example.
        let first = SCRAMMessage.clientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        #expect(first?.gs2Header == "n,,")
        #expect(first?.bare == "n=user,r=rOprNGfwEbeRWgbNEkqO")
        #expect(first?.user == "user")
        #expect(first?.nonce == "rOprNGfwEbeRWgbNEkqO")
        #expect(SCRAMMessage.clientFirst("n,,n=a=2Cb=3Dc,r=x")?.user == "a,b=c")
        #expect(SCRAMMessage.clientFirst("n,,n=a=2Xb,r=x") == nil)  // bad escape
        #expect(SCRAMMessage.clientFirst("p=tls-unique,,n=a,r=x") == nil)  // channel binding
        #expect(SCRAMMessage.clientFirst("n,,m=ext,n=a,r=x") == nil)  // mandatory extension
        #expect(SCRAMMessage.clientFirst("n,,n=a") == nil)
        #expect(SCRAMMessage.clientFirst("") == nil)
    }

    @Test func clientFinalMessages() {
        let text =
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        let final = SCRAMMessage.clientFinal(text)
        #expect(final?.binding == "biws")
        #expect(final?.nonce == "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        #expect(final?.proof == "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        #expect(final?.withoutProof == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        #expect(SCRAMMessage.clientFinal("c=biws,r=x") == nil)
        #expect(SCRAMMessage.clientFinal("p=abc") == nil)
        #expect(SCRAMMessage.clientFinal("c=biws,r=x,p=") == nil)
    }
}
