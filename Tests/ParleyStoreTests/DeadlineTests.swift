import ParleyStore
import Testing

/// The guard around database calls that may never answer.
struct DeadlineTests {
    struct Refused: Error, Equatable {}

    @Test func anAnswerInTimeIsPassedOnAndAFailureToo() async throws {
        #expect(try await withDeadline(.seconds(60)) { 42 } == 42)
        await #expect(throws: Refused()) {
            try await withDeadline(.seconds(60)) { () async throws -> Int in throw Refused() }
        }
    }

    @Test func aCallThatNeverAnswersIsGivenUp() async throws {
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(50)) { () async throws -> Int in
                try await Task.sleep(for: .seconds(3600))
                return 0
            }
        }
    }
}
