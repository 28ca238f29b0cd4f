import NIOConcurrencyHelpers

/// `body`'s result, or ``DeadlineExceeded`` after `deadline`; a body that never ends is left behind, cancelled.
/// For database calls that may never answer (postgres-nio sometimes loses a query whose backend was terminated).
public func withDeadline<Result: Sendable>(
    _ deadline: Duration,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let settled = NIOLockedValueBox(false)
    let timer = NIOLockedValueBox<Task<Void, Never>?>(nil)
    return try await withCheckedThrowingContinuation { continuation in
        let settle: @Sendable (Swift.Result<Result, any Error>) -> Bool = { result in
            let first = settled.withLockedValue { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(with: result) }
            return first
        }
        let work = Task {
            let result: Swift.Result<Result, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            if settle(result) { timer.withLockedValue { $0?.cancel() } }
        }
        timer.withLockedValue {
            $0 = Task {
                try? await Task.sleep(for: deadline)
                if !Task.isCancelled, settle(.failure(DeadlineExceeded())) { work.cancel() }
            }
        }
    }
}

/// A database call that did not answer in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the database did not answer in time" }
}
