// draft/read-marker: how far this person has read each conversation, kept by the server and shared with their
// other devices. Reading here moves the marker; a marker from elsewhere sets what counts as unread here.

import { fold } from './irc.js';

const SPOKEN = new Set(['message', 'action', 'notice']);

export class ReadMarkers {
  constructor() {
    /** Folded name → the newest time told to or heard from the server (Date). */
    this.known = new Map();
    /** The account this connection is logged in to: only an account's markers outlive the connection. */
    this.account = null;
    this.pending = new Set();
    this.timer = null;
  }

  /** A MARKREAD from the server (`timestamp=…` or `*`): returns its time, or null when there is none. */
  arrived(name, value) {
    if (!value || !value.startsWith('timestamp=')) return null;
    const time = new Date(value.slice('timestamp='.length));
    if (Number.isNaN(time.getTime())) return null;
    const key = fold(name);
    const before = this.known.get(key);
    if (!before || time > before) this.known.set(key, time);
    return this.known.get(key);
  }

  /** Sets a buffer's unread count and mention flag from its marker: only what others said after it counts. */
  static recount(buffer, marker, isMe) {
    const unread = buffer.lines.filter((line) => line.time > marker && SPOKEN.has(line.kind) && !isMe(line.nick));
    buffer.unread = unread.length;
    buffer.highlight = unread.some((line) => line.highlight) || (buffer.kind === 'query' && unread.length > 0);
  }

  /** The buffer is on screen: tell the server it is read to its newest line (gathered, at most twice a second). */
  seen(connection, buffer) {
    if (!this.account || buffer.kind === 'server' || document.visibilityState !== 'visible') return;
    this.pending.add(buffer);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const buffers = [...this.pending];
      this.pending.clear();
      if (!connection || !connection.isOpen() || !connection.caps.has('draft/read-marker')) return;
      for (const each of buffers) this.send(connection, each);
    }, 500);
  }

  send(connection, buffer) {
    const newest = [...buffer.lines].reverse().find((line) => SPOKEN.has(line.kind) && !line.jump);
    if (!newest) return;
    const key = fold(buffer.name);
    const known = this.known.get(key);
    if (known && newest.time <= known) return;
    this.known.set(key, newest.time);
    connection.send('MARKREAD', buffer.name, `timestamp=${newest.time.toISOString()}`);
  }
}
