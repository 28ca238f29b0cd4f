// The IRC line format (RFC 1459 with IRCv3 message tags): parse a received line, build a line to send.

const TAG_ESCAPES = { ':': ';', 's': ' ', '\\': '\\', 'r': '\r', 'n': '\n' };

function unescapeTag(value) {
  return value.replace(/\\(.?)/g, (_, c) => (c in TAG_ESCAPES ? TAG_ESCAPES[c] : c));
}

/** Parses one line (without CR LF) into { tags, source, nick, command, params }. */
export function parse(line) {
  const message = { tags: {}, source: null, nick: null, command: '', params: [] };
  let rest = line;
  if (rest.startsWith('@')) {
    const space = rest.indexOf(' ');
    for (const item of rest.slice(1, space).split(';')) {
      if (!item) continue;
      const eq = item.indexOf('=');
      if (eq < 0) message.tags[item] = '';
      else message.tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
    rest = rest.slice(space + 1).replace(/^ +/, '');
  }
  if (rest.startsWith(':')) {
    const space = rest.indexOf(' ');
    message.source = rest.slice(1, space);
    message.nick = message.source.split('!')[0];
    rest = rest.slice(space + 1).replace(/^ +/, '');
  }
  while (rest.length > 0) {
    if (rest.startsWith(':')) {
      message.params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(' ');
    if (space < 0) {
      message.params.push(rest);
      break;
    }
    message.params.push(rest.slice(0, space));
    rest = rest.slice(space + 1).replace(/^ +/, '');
  }
  if (message.params.length > 0 && !message.command) message.command = message.params.shift().toUpperCase();
  return message;
}

/** Builds a line from a command and parameters; the last one is sent as trailing when it needs to be. */
export function build(command, ...params) {
  const parts = [command];
  params.forEach((param, index) => {
    const text = String(param).replace(/[\r\n]/g, ' ');
    const last = index === params.length - 1;
    parts.push(last && (text === '' || text.includes(' ') || text.startsWith(':')) ? ':' + text : text);
  });
  return parts.join(' ');
}

/** `@key=value;…` (with a trailing space) for client tags, their values escaped. */
export function tagPrefix(tags) {
  const escape = (value) => value.replace(/[\\; \r\n]/g, (c) => ({ '\\': '\\\\', ';': '\\:', ' ': '\\s', '\r': '\\r', '\n': '\\n' })[c]);
  return '@' + Object.entries(tags).map(([key, value]) => (value === '' ? key : `${key}=${escape(value)}`)).join(';') + ' ';
}

/** ASCII case folding, as the server advertises (CASEMAPPING=ascii). */
export function fold(name) {
  return name.toLowerCase();
}

export function isChannel(name) {
  return name.startsWith('#') || name.startsWith('&');
}

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8 (what the server's line limit counts). */
export function utf8Length(text) {
  return encoder.encode(text).length;
}

/**
 * Pieces of `text` of at most `maxBytes` UTF-8 bytes each, cut between characters and at a space when there is one
 * (as the terminal client does), so a long message goes out as several lines instead of being refused.
 */
export function splitText(text, maxBytes) {
  const pieces = [];
  let rest = text;
  while (utf8Length(rest) > maxBytes) {
    let used = 0;
    let end = 0;
    let lastSpace = -1;
    for (const char of rest) {
      const size = utf8Length(char);
      if (used + size > maxBytes) break;
      used += size;
      end += char.length;
      if (char === ' ') lastSpace = end;
    }
    if (end === 0) end = String.fromCodePoint(rest.codePointAt(0)).length;
    const cut = lastSpace > 0 ? lastSpace : end;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest || pieces.length === 0) pieces.push(rest);
  return pieces;
}
