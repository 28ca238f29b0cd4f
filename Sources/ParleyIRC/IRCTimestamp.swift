/// Formats and parses `server-time` values (`2026-11-25T13:57:21.123Z`) without Foundation.
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

    /// Milliseconds since 1970-01-01 of a `server-time` value (`YYYY-MM-DDThh:mm:ss[.sss]Z`), or `nil` when the
    /// text is not in that form.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[start..<(start + count)] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        for (index, character) in separators where bytes[index] != character.asciiValue {
            return nil
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var millis: Int64 = 0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count >= 22 else { return nil }
            // Every digit of the fraction is checked, but only the first three (milliseconds) are read: a long
            // fraction would overflow the number (the fuzzer found one).
            let digits = bytes.count - 21
            guard bytes[20..<(bytes.count - 1)].allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let fraction = number(20, min(digits, 3))
            else { return nil }
            millis = fraction
            for _ in min(digits, 3)..<3 { millis *= 10 }
        } else if bytes.count != 20 {
            return nil
        }
        let days = self.days(fromCivil: year, month, day)
        return ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis
    }

    /// Howard Hinnant's civil-to-days algorithm.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
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
