// One IRC session over the server's own WebSocket (text.ircv3.net): capability negotiation, SASL PLAIN,
// registration, PING, and reconnecting with a growing delay when the connection drops.

import { build, parse, tagPrefix } from './irc.js';

const WANTED_CAPS = [
  'server-time', 'echo-message', 'message-tags', 'batch', 'multi-prefix', 'away-notify', 'account-tag',
  'draft/chathistory', 'soju.im/search', 'cap-notify', 'invite-notify', 'setname', 'draft/read-marker', 'draft/message-redaction',
  'draft/multiline', 'draft/channel-rename', 'draft/metadata-3',
];

export class Connection {
  /**
   * @param {object} options { nick, password, serverPassword, onMessage(message), onStatus(kind, text),
   *   onRegistered(), onFatal(text) }. Until the first registration, what stops it (a taken nick, a failed login,
   *   a wrong server password) is fatal: the page goes back to the form and says why. After that it reconnects.
   */
  constructor(options) {
    this.options = options;
    this.nick = options.nick;
    this.caps = new Set();
    this.available = new Map();
    this.socket = null;
    this.registered = false;
    this.delay = 1000;
    this.stopped = false;
    this.everRegistered = false;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/`;
  }

  open() {
    this.registered = false;
    this.caps = new Set();
    this.available = new Map();
    const socket = new WebSocket(this.url(), ['text.ircv3.net']);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.delay = 1000;
      if (this.options.serverPassword) this.send('PASS', this.options.serverPassword);
      this.send('CAP', 'LS', '302');
      this.send('NICK', this.nick);
      this.send('USER', this.nick.replace(/[^A-Za-z0-9]/g, '') || 'web', '0', '*', 'Parley web client');
    });
    socket.addEventListener('message', (event) => {
      for (const line of String(event.data).split(/\r?\n/)) {
        if (line) this.receive(parse(line));
      }
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (!this.everRegistered) {
        this.options.onFatal('Could not connect to the server.');
        return;
      }
      const seconds = Math.round(this.delay / 1000);
      this.options.onStatus('offline', `Disconnected — reconnecting in ${seconds} s…`);
      setTimeout(() => { if (!this.stopped) this.open(); }, this.delay);
      this.delay = Math.min(this.delay * 2, 30000);
    });
  }

  close(reason) {
    this.stopped = true;
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.send('QUIT', reason || 'Leaving');
    setTimeout(() => this.socket && this.socket.close(), 200);
  }

  send(command, ...params) {
    this.sendRaw(build(command, ...params));
  }

  sendTagged(tags, command, ...params) {
    this.sendRaw(tagPrefix(tags) + build(command, ...params));
  }

  sendRaw(line) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(line);
  }

  /** Whether a line sent now reaches the server (the socket is open). */
  isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  has(cap) {
    return this.caps.has(cap);
  }

  /** draft/multiline's limits as the server states them (`max-bytes=4096,max-lines=100`), or null without it. */
  multiline() {
    if (!this.caps.has('draft/multiline') || !this.caps.has('batch')) return null;
    const limits = { maxBytes: 4096, maxLines: 100 };
    for (const item of (this.available.get('draft/multiline') || '').split(',')) {
      const [key, value] = item.split('=');
      if (key === 'max-bytes' && Number(value) > 0) limits.maxBytes = Number(value);
      if (key === 'max-lines' && Number(value) > 0) limits.maxLines = Number(value);
    }
    return limits;
  }

  receive(message) {
    // A first attempt that failed already said why; what the server sends while closing must not replace it.
    if (this.stopped && !this.everRegistered) return;
    switch (message.command) {
      case 'PING':
        this.send('PONG', ...message.params);
        return;
      case 'CAP':
        this.capability(message);
        return;
      case 'AUTHENTICATE':
        if (message.params[0] === '+') {
          const bytes = new TextEncoder().encode(`\0${this.options.nick}\0${this.options.password}`);
          let binary = '';
          bytes.forEach((b) => { binary += String.fromCharCode(b); });
          const encoded = btoa(binary);
          for (let i = 0; i < encoded.length; i += 400) this.send('AUTHENTICATE', encoded.slice(i, i + 400));
          if (encoded.length % 400 === 0) this.send('AUTHENTICATE', '+');
        }
        return;
      case '903':
        this.send('CAP', 'END');
        break;
      case '904': case '905': case '902':
        if (!this.everRegistered) {
          this.fail('Login failed: wrong nickname or password. Check both, or leave the password empty to chat without your account.');
          return;
        }
        this.options.onStatus('error', 'Login failed: wrong name or password. Connected without logging in.');
        this.send('CAP', 'END');
        break;
      case '001': {
        const again = this.everRegistered;
        this.registered = true;
        this.everRegistered = true;
        this.nick = message.params[0];
        this.options.onStatus(again ? 'reconnected' : 'online', '');
        this.options.onRegistered();
        break;
      }
      case '433': case '432':
        if (!this.registered) {
          if (!this.everRegistered) {
            this.fail(message.command === '433'
              ? `The nickname ${this.nick} is taken right now: pick another.`
              : `${this.nick} cannot be a nickname here: ${message.params[message.params.length - 1]}`);
            return;
          }
          // After a reconnect our old session may still hold the nick for a moment: take it with an underscore.
          this.nick = this.nick + '_';
          this.send('NICK', this.nick);
        }
        break;
      case '464':
        if (!this.everRegistered) {
          this.fail(this.options.serverPassword
            ? 'The server password is wrong.'
            : 'This server needs a password to connect: fill in "Server password".');
          return;
        }
        break;
      case 'NICK':
        if (message.nick === this.nick) this.nick = message.params[0];
        break;
      case 'ERROR':
        if (!this.everRegistered) this.options.onFatal(message.params[0] || 'The server closed the connection.');
        break;
      default:
        break;
    }
    this.options.onMessage(message);
  }

  /** Ends a first attempt with `text` shown on the form (nothing reconnects). */
  fail(text) {
    this.stopped = true;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
    this.options.onFatal(text);
  }

  capability(message) {
    const sub = message.params[1];
    const args = message.params.slice(2);
    if (sub === 'LS' || sub === 'NEW') {
      const more = args.length > 1 && args[0] === '*';
      for (const item of args[args.length - 1].split(' ')) {
        if (!item) continue;
        const eq = item.indexOf('=');
        this.available.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
      }
      if (more) return;
      const wanted = WANTED_CAPS.filter((cap) => this.available.has(cap) && !this.caps.has(cap));
      if (this.options.password && this.available.has('sasl') && sub === 'LS') wanted.push('sasl');
      if (wanted.length > 0) this.send('CAP', 'REQ', wanted.join(' '));
      else if (sub === 'LS') this.send('CAP', 'END');
    } else if (sub === 'ACK') {
      for (const cap of args[args.length - 1].split(' ')) {
        if (cap.startsWith('-')) this.caps.delete(cap.slice(1));
        else if (cap) this.caps.add(cap);
      }
      if (this.registered) return;
      if (this.caps.has('sasl') && this.options.password) this.send('AUTHENTICATE', 'PLAIN');
      else this.send('CAP', 'END');
    } else if (sub === 'NAK') {
      if (!this.registered) this.send('CAP', 'END');
    } else if (sub === 'DEL') {
      for (const cap of args[args.length - 1].split(' ')) this.caps.delete(cap);
    }
  }
}
