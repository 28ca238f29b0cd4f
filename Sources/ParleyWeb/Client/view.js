// Everything that touches the page. Text from the network is only ever inserted as text nodes: never as HTML.

import { cssColour, formatRuns, stripFormatting } from './formatting.js';

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]]/gi;

const IMAGE_PATH = /\.(png|jpe?g|gif|webp|avif)$/i;

/**
 * A button that shows the image an https link points to, under the line, only when clicked: nothing is fetched from
 * another site until the reader asks (privacy), and then without a referrer; the image is shown at most 480 × 320.
 */
function imageButton(href) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'show-image';
  button.textContent = 'Show image';
  button.addEventListener('click', (event) => {
    event.stopPropagation();
    const image = document.createElement('img');
    image.src = href;
    image.alt = 'Image from ' + new URL(href).host;
    image.referrerPolicy = 'no-referrer';
    image.loading = 'lazy';
    image.className = 'inline-image';
    button.replaceWith(image);
  });
  return button;
}

/** Text with http(s) links made clickable; everything else stays plain text. */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url;
    try {
      url = new URL(match[0]);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    fragment.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement('a');
    link.href = url.href;
    link.textContent = match[0];
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    fragment.append(link);
    if (url.protocol === 'https:' && IMAGE_PATH.test(url.pathname)) fragment.append(imageButton(url.href));
    last = match.index + match[0].length;
  }
  fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

let showFormatting = localStorage.getItem('parley.formatting') !== 'off';

/** Whether IRC formatting (bold, colours, …) is shown, or stripped to plain text; remembered in this browser. */
export function setShowFormatting(on) {
  showFormatting = on;
  localStorage.setItem('parley.formatting', on ? 'on' : 'off');
}

/** Message text: IRC formatting as styled spans (classes and colour values only), links made clickable. */
export function formatted(text) {
  const fragment = document.createDocumentFragment();
  for (const { text: piece, style } of formatRuns(text)) {
    const styled = showFormatting && Object.values(style).some((value) => value !== false && value !== null);
    if (!styled) {
      fragment.append(linkify(piece));
      continue;
    }
    const span = document.createElement('span');
    for (const flag of ['bold', 'italic', 'monospace']) if (style[flag]) span.classList.add(`irc-${flag}`);
    const lines = [style.underline && 'underline', style.strike && 'line-through'].filter(Boolean);
    if (lines.length) span.style.textDecorationLine = lines.join(' ');
    let fg = cssColour(style.fg, style.bg === null);
    let bg = cssColour(style.bg, false);
    if (style.reverse) [fg, bg] = [bg || 'var(--bg)', fg || 'var(--text)'];
    if (fg) span.style.color = fg;
    if (bg) span.style.backgroundColor = bg;
    span.append(linkify(piece));
    fragment.append(span);
  }
  return fragment;
}

// Ten hues far enough apart to tell people apart, none in the band that turns brown at reading lightness. With the
// themes' lightness (30 % light, 70 % dark, saturation 65 %) each has a contrast of at least 4.8:1 on the light
// background and 5.5:1 on the dark one (WCAG's formula).
const NICK_HUES = [0, 95, 130, 165, 190, 210, 235, 265, 290, 320];

/** A stable hue per nick (FNV-1a, as the terminal client), so a person keeps their colour everywhere. */
export function nickHue(nick) {
  let hash = 0x811c9dc5;
  for (const char of nick.toLowerCase()) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return NICK_HUES[hash % NICK_HUES.length];
}

export function nickElement(nick, shown = nick) {
  const span = document.createElement('span');
  span.className = 'nick';
  span.textContent = shown;
  if (shown !== nick) span.title = nick;
  span.style.setProperty('--hue', String(nickHue(nick)));
  return span;
}

/** IRCv3 metadata of a nick ({ avatar, 'display-name' }), looked up in the app's state. */
let profileOf = () => null;

export function setProfiles(lookup) {
  profileOf = lookup;
}

/** The name shown for `nick` on its lines: its display name when it set one. */
function shownName(nick) {
  const name = (profileOf(nick) || {})['display-name'];
  return name ? stripFormatting(name).slice(0, 64) : nick;
}

/**
 * The avatar before a line: the picture an https URL in the user's `avatar` key points to, loaded lazily and
 * without a referrer (never anything taken from message text), else a placeholder in the nick's colour with its
 * initial (drawn by CSS, so it is not part of the line's text).
 */
function avatarElement(nick) {
  const url = (profileOf(nick) || {}).avatar || '';
  if (/^https:\/\/[^\s"'<>]+$/i.test(url)) {
    const image = element('img', 'avatar');
    image.alt = '';
    image.loading = 'lazy';
    image.referrerPolicy = 'no-referrer';
    image.src = url;
    return image;
  }
  const placeholder = element('span', 'avatar placeholder');
  placeholder.setAttribute('aria-hidden', 'true');
  placeholder.dataset.initial = (shownName(nick)[0] || '?').toUpperCase();
  placeholder.style.setProperty('--hue', String(nickHue(nick)));
  return placeholder;
}

/** "Today", "Yesterday", or the date (with the year when it is not this one). */
export function dayName(time, now = new Date()) {
  const midnight = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const days = Math.round((midnight(now) - midnight(time)) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const options = { weekday: 'long', day: 'numeric', month: 'long' };
  if (time.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  return time.toLocaleDateString([], options);
}

function clock(time) {
  return time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One row of the message view. */
/** What a reply quotes: `↪ nick: the start of the line it answers`. */
function quote(parent) {
  const node = element('div', 'reply-quote');
  node.append(document.createTextNode('↪ '));
  if (!parent) {
    node.append(document.createTextNode('an earlier message'));
    return node;
  }
  const snippet = stripFormatting(parent.text);
  node.append(nickElement(parent.nick || ''), document.createTextNode(` ${snippet.length > 80 ? snippet.slice(0, 80) + '…' : snippet}`));
  return node;
}

/** Reply and React for a line with a msgid, and Delete where the reader may delete it; shown on hover or focus. */
function lineActions(line, deletable) {
  const actions = element('span', 'line-actions');
  const names = [['reply', 'Reply'], ['react', 'React']];
  if (deletable) names.push(['delete', 'Delete']);
  for (const [name, label] of names) {
    const button = element('button', `line-${name}`, label);
    button.type = 'button';
    button.dataset.lineAction = name;
    button.dataset.lineId = line.id;
    button.setAttribute('aria-label', name === 'delete' ? `Delete this message of ${line.nick}` : `${label} to ${line.nick}`);
    actions.append(button);
  }
  return actions;
}

/** Reaction counts under a line; a click adds the same reaction. */
function reactionCounts(line) {
  const counts = element('div', 'reactions');
  for (const [emoji, who] of line.reactions) {
    const button = element('button', 'reaction', `${emoji} ${who.size}`);
    button.type = 'button';
    button.title = [...who].join(', ');
    button.dataset.lineAction = 'react-with';
    button.dataset.lineId = line.id;
    button.dataset.emoji = emoji;
    counts.append(button);
  }
  return counts;
}

function row(line, byId = new Map(), canDelete = () => false) {
  const node = element('div', `line ${line.kind}`);
  if (line.highlight) node.classList.add('highlight');
  if (line.id) node.dataset.id = line.id;
  if (line.jump && line.jump.msgid) {
    // A search hit: a click opens the conversation at that point.
    node.dataset.jumpPlace = line.jump.place;
    node.dataset.jumpId = line.jump.msgid;
    node.title = `Show in ${line.jump.place}`;
  }
  const time = element('time', 'time', clock(line.time));
  time.dateTime = line.time.toISOString();
  time.title = line.time.toLocaleString();
  node.append(time);
  const body = element('span', 'body');
  if (line.kind === 'listing') {
    // A channel in the channel browser: its name, how many are in it, its topic, and a button to join.
    const join = element('button', 'join-channel', line.joined ? 'Open' : 'Join');
    join.type = 'button';
    join.dataset.channel = line.channel;
    join.setAttribute('aria-label', `${line.joined ? 'Open' : 'Join'} ${line.channel}`);
    body.append(element('strong', 'channel-name', line.channel), element('span', 'users', ` ${line.users} `),
      formatted(line.text), document.createTextNode(' '), join);
    node.append(body);
    return node;
  }
  if (line.reply) body.append(quote(byId.get(line.reply)));
  if (line.deleted) {
    // Redacted (draft/message-redaction): who said it stays, what they said does not.
    const note = element('em', 'deleted', line.deleted.reason ? `message deleted (${line.deleted.reason})` : 'message deleted');
    body.append(nickElement(line.nick || ''), document.createTextNode(' '), note);
    node.classList.add('redacted');
    node.append(body);
    return node;
  }
  if (line.kind === 'message') {
    body.append(avatarElement(line.nick), nickElement(line.nick, shownName(line.nick)), document.createTextNode(' '), formatted(line.text));
  } else if (line.kind === 'action') {
    body.append(avatarElement(line.nick), document.createTextNode('* '), nickElement(line.nick, shownName(line.nick)),
      document.createTextNode(' '), formatted(line.text));
  } else if (line.kind === 'notice') {
    body.append(document.createTextNode('-'), nickElement(line.nick || 'server'), document.createTextNode('- '), formatted(line.text));
  } else {
    body.append(linkify(line.text));
  }
  if (line.reactions && line.reactions.size) body.append(reactionCounts(line));
  node.append(body);
  if (line.id && !line.jump && (line.kind === 'message' || line.kind === 'action')) node.append(lineActions(line, canDelete(line)));
  return node;
}

/** Draws a buffer's lines; runs of joins, parts and quits become one dimmed row. */
export function renderLines(container, lines, { keepBottom, keepOffsetFromBottom, canDelete }) {
  const wasAtBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 30;
  const fromBottom = container.scrollHeight - container.scrollTop;
  container.replaceChildren();
  const byId = new Map(lines.filter((line) => line.id).map((line) => [line.id, line]));
  let events = [];
  let day = null;
  // A line on another day than the one before it gets that day's name first ("Today", "Yesterday", a date).
  const startDay = (time) => {
    const key = time.toDateString();
    if (key === day) return;
    day = key;
    const separator = element('div', 'day', dayName(time));
    separator.setAttribute('role', 'separator');
    container.append(separator);
  };
  const flush = () => {
    if (events.length === 0) return;
    const summary = { kind: 'event', time: events[events.length - 1].time, text: events.map((e) => e.text).join(' · ') };
    container.append(row(summary));
    events = [];
  };
  for (const line of lines) {
    if (line.time.toDateString() !== day) {
      flush();
      startDay(line.time);
    }
    if (line.kind === 'event') {
      events.push(line);
      continue;
    }
    flush();
    container.append(row(line, byId, canDelete));
  }
  flush();
  if (keepOffsetFromBottom) container.scrollTop = container.scrollHeight - fromBottom;
  else if (keepBottom || wasAtBottom) container.scrollTop = container.scrollHeight;
}

export function renderBufferList(list, buffers, activeKey, onSelect, onClose) {
  list.replaceChildren();
  for (const [key, buffer] of buffers) {
    const item = element('li', 'buffer');
    item.dataset.key = key;
    if (key === activeKey) item.classList.add('active');
    if (buffer.kind === 'channel' && !buffer.joined) item.classList.add('parted');
    const name = element('button', 'buffer-name', buffer.name);
    name.type = 'button';
    name.addEventListener('click', () => onSelect(key));
    item.append(name);
    if (buffer.unread > 0) {
      const badge = element('span', buffer.highlight ? 'unread mention' : 'unread', String(buffer.unread));
      badge.title = `${buffer.unread} unread`;
      item.append(badge);
    }
    if (buffer.kind !== 'server') {
      const close = element('button', 'close', '×');
      close.type = 'button';
      close.title = buffer.kind === 'channel' ? `Leave ${buffer.name}` : `Close ${buffer.name}`;
      close.setAttribute('aria-label', close.title);
      close.addEventListener('click', () => onClose(key));
      item.append(close);
    }
    list.append(item);
  }
}

const RANK = { '~': 0, '&': 1, '@': 2, '%': 3, '+': 4, '': 5 };

/** The member list; `away` maps the nicks who are away to their reason (dimmed, the reason as a tooltip). */
export function renderMembers(list, members, away = new Map(), onChoose = null) {
  list.replaceChildren();
  const sorted = [...members.entries()].sort(([a, pa], [b, pb]) => {
    const ra = RANK[pa[0] || ''] ?? 5;
    const rb = RANK[pb[0] || ''] ?? 5;
    return ra - rb || a.toLowerCase().localeCompare(b.toLowerCase());
  });
  for (const [nick, prefix] of sorted) {
    const item = element('li', away.has(nick) ? 'member away' : 'member');
    if (away.has(nick)) item.title = away.get(nick) ? `away: ${away.get(nick)}` : 'away';
    item.append(element('span', 'prefix', prefix.slice(0, 1)), nickElement(nick));
    if (onChoose) {
      item.tabIndex = 0;
      item.setAttribute('role', 'button');
      item.addEventListener('click', (event) => {
        event.stopPropagation();
        onChoose(nick, item);
      });
      item.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          onChoose(nick, item);
        }
      });
    }
    list.append(item);
  }
}
