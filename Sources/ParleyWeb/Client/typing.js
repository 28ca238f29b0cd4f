// Typing notices (the IRCv3 `+typing` client tag): what this user sends while composing, and who is typing where.

const SEND_EVERY = 3000; // the spec: `active` no more often than every 3 s
const ACTIVE_LAPSES = 6000; // an `active` not renewed within 6 s has lapsed
const PAUSED_LAPSES = 30000;

export class Typing {
  constructor(onChange) {
    this.onChange = onChange;
    this.others = new Map(); // buffer key -> Map(nick -> time the notice lapses)
    this.target = null; // where this user last said they type
    this.sentAt = 0;
    setInterval(() => this.expire(), 1000);
  }

  /** The input line changed: says `active` to `target` (at most every 3 s), or `done` once the line is empty. */
  composing(connection, target, text) {
    if (!connection || !connection.has('message-tags')) return;
    const typing = text.trim() !== '' && !text.startsWith('/');
    if (this.target && (this.target !== target || !typing)) this.stop(connection);
    if (!typing || !target) return;
    const now = Date.now();
    if (this.target === target && now - this.sentAt < SEND_EVERY) return;
    this.target = target;
    this.sentAt = now;
    connection.sendTagged({ '+typing': 'active' }, 'TAGMSG', target);
  }

  /** The line was sent: a message ends the notice by itself; a command does not. */
  submitted(connection, text) {
    if (this.target && text.startsWith('/') && !/^\/me /i.test(text)) this.stop(connection);
    this.target = null;
  }

  stop(connection) {
    if (connection && connection.has('message-tags')) connection.sendTagged({ '+typing': 'done' }, 'TAGMSG', this.target);
    this.target = null;
  }

  /** A notice from `nick` for the buffer `key`. */
  received(key, nick, value) {
    const typists = this.others.get(key) || new Map();
    if (value === 'active' || value === 'paused') {
      typists.set(nick, Date.now() + (value === 'active' ? ACTIVE_LAPSES : PAUSED_LAPSES));
    } else {
      typists.delete(nick);
    }
    this.others.set(key, typists);
    this.onChange(key);
  }

  /** `nick` spoke or left in `key` (every buffer when `key` is null): whatever they were typing is over. */
  ended(key, nick) {
    for (const [bufferKey, typists] of this.others) {
      if ((key === null || bufferKey === key) && typists.delete(nick)) this.onChange(bufferKey);
    }
  }

  /** Who is typing in `key`, as a sentence ('' when no one). */
  describe(key) {
    const nicks = [...(this.others.get(key) || new Map()).keys()].sort();
    if (nicks.length === 0) return '';
    if (nicks.length === 1) return `${nicks[0]} is typing…`;
    if (nicks.length <= 3) return `${nicks.slice(0, -1).join(', ')} and ${nicks[nicks.length - 1]} are typing…`;
    return 'Several people are typing…';
  }

  expire() {
    const now = Date.now();
    for (const [key, typists] of this.others) {
      let changed = false;
      for (const [nick, lapses] of typists) {
        if (lapses <= now) {
          typists.delete(nick);
          changed = true;
        }
      }
      if (changed) this.onChange(key);
    }
  }
}
