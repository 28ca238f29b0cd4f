#if canImport(Glibc)
import Glibc
#endif

// SwiftPM links an executable's top-level code as its `main`, so libFuzzer's own `main` is not used: each target
// starts libFuzzer's driver from its top-level code with this.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the process's arguments, feeding `callback`, and exits with its status.
public func runLibFuzzer(_ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt) -> Never {
    var argumentCount = CommandLine.argc
    var arguments = CommandLine.unsafeArgv
    exit(runFuzzerDriver(&argumentCount, &arguments, callback))
}
