/// Formats `server-time` values (`2026-11-25T13:57:21.123Z`) without Foundation.
public enum IRCTimestamp {
    /// The ISO 8601 UTC form of `milliseconds` since 1970-01-01.
    public static func format(millisecondsSince1970 milliseconds: Int64) -> String {
        let totalSeconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - totalSeconds * 1000)
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secondOfDay = Int(totalSeconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        var out = ""
        out.reserveCapacity(24)
        append(&out, Int(year), width: 4)
        out += "-"
        append(&out, month, width: 2)
        out += "-"
        append(&out, day, width: 2)
        out += "T"
        append(&out, secondOfDay / 3600, width: 2)
        out += ":"
        append(&out, secondOfDay / 60 % 60, width: 2)
        out += ":"
        append(&out, secondOfDay % 60, width: 2)
        out += "."
        append(&out, millis, width: 3)
        out += "Z"
        return out
    }

    /// Howard Hinnant's days-to-civil algorithm.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func append(_ out: inout String, _ value: Int, width: Int) {
        let digits = String(value)
        if digits.utf8.count < width {
            out += String(repeating: "0", count: width - digits.utf8.count)
        }
        out += digits
    }
}
