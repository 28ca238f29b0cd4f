/// One key press, decoded from the bytes a terminal sends in raw mode.
public enum Key: Equatable, Sendable {
    /// A printable character (one grapheme's scalar; combining marks arrive as their own key).
    case character(Character)
    case enter
    case tab
    case backspace
    case delete
    case left
    case right
    case up
    case down
    case home
    case end
    case wordLeft
    case wordRight
    case pageUp
    case pageDown
    /// Ctrl plus a letter that has no key of its own here, as the lowercase letter (`"l"` for Ctrl-L).
    case control(Character)
    /// Alt (or Esc then the key) plus a character, as sent by most terminals: ESC followed by the character.
    case alt(Character)
    case escape
    /// Text the terminal pasted (bracketed paste mode): it may hold line breaks, and none of it is a key to act on.
    case paste(String)
}
