// The web client: buffers (channels, conversations, the server), what each IRC message does to them, and the page.

import { Connection } from './connection.js';
import { stripFormatting } from './formatting.js';
import { fold, isChannel } from './irc.js';
import { complete, neighbour } from './keys.js';
import { runCommand } from './commands.js';
import { ReadMarkers } from './readmarkers.js';
import { Typing } from './typing.js';
import { renderBufferList, renderLines, renderMembers, setProfiles } from './view.js';

const $ = (id) => document.getElementById(id);
const HISTORY_PAGE = 50;
const MAX_LINES = 2000;

export const state = {
  connection: null,
  network: 'Parley',
  prefixes: new Map([['o', '@'], ['v', '+']]),
  buffers: new Map(),
  active: null,
  batches: new Map(),
  /** Channels this user asked to join (folded): shown as soon as the server says they are in. */
  switchOnJoin: new Set(),
  /** Channels whose member list the user asked for with /names (folded): printed when it ends. */
  namesWanted: new Set(),
  /** A search hit being opened: { place, msgid }, until its line is on screen. */
  focus: null,
  /** The line the next message replies to: { id, nick, text, buffer }, or null. */
  replying: null,
  /** The last line sent (Up on an empty input brings it back). */
  lastSent: '',
  /** LIST replies gathered until its end. */
  listing: null,
  markers: new ReadMarkers(),
  /** IRCv3 metadata of users (folded nick → { avatar, 'display-name' }), for the keys this page subscribes to. */
  profiles: new Map(),
  typing: new Typing((key) => {
    if (key === state.active) renderTyping();
  }),
};

function makeBuffer(name, kind) {
  return {
    name, kind, lines: [], ids: new Set(), members: new Map(), away: new Map(), topic: '', unread: 0,
    highlight: false, joined: false, loadingHistory: false, historyDone: false, quietWho: false,
  };
}

export function buffer(name, kind) {
  const key = fold(name);
  let found = state.buffers.get(key);
  if (!found) {
    found = makeBuffer(name, kind || (isChannel(name) ? 'channel' : 'query'));
    state.buffers.set(key, found);
    if (!state.active || state.active === fold(state.network)) state.active = key;
    renderSidebar();
  }
  return found;
}

function serverBuffer() {
  return buffer(state.network, 'server');
}

export function activeBuffer() {
  return state.buffers.get(state.active) || serverBuffer();
}

function timeOf(message) {
  const stamp = message.tags.time ? new Date(message.tags.time) : null;
  return stamp && !Number.isNaN(stamp.getTime()) ? stamp : new Date();
}

/** Adds a line to a buffer in time order (history may arrive late), once per msgid. */
export function addLine(target, line, { history = false } = {}) {
  if (line.id) {
    if (target.ids.has(line.id)) return;
    target.ids.add(line.id);
  }
  let index = target.lines.length;
  while (index > 0 && target.lines[index - 1].time > line.time) index--;
  target.lines.splice(index, 0, line);
  if (target.lines.length > MAX_LINES) target.lines.splice(0, target.lines.length - MAX_LINES);
  const key = fold(target.name);
  if (key !== state.active && !history && line.kind !== 'event') {
    target.unread++;
    if (line.highlight || target.kind === 'query') target.highlight = true;
    renderSidebar();
  }
  if (key === state.active && !history) {
    renderMessages();
    state.markers.seen(state.connection, target);
  }
}

export function info(text, kind = 'info', target = activeBuffer()) {
  addLine(target, { kind, time: new Date(), text });
}

export function renderMessages(options = {}) {
  const current = activeBuffer();
  // Layout first (no member list, no empty column for it), so the lines are placed, and scrolled, at their width.
  $('members').hidden = current.kind !== 'channel';
  document.body.classList.toggle('no-members', current.kind !== 'channel');
  renderLines($('messages'), current.lines, { ...options, canDelete: (line) => mayDelete(current, line) });
  $('buffer-name').textContent = current.name;
  $('topic').textContent = current.topic;
  $('topic').title = current.topic;
  renderMembers($('member-list'), current.members, current.away, (nick, item) => memberMenu(current, nick, item));
  renderTyping();
}

function renderTyping() {
  $('typing').textContent = state.typing.describe(state.active);
}

/** Where a typing notice for the active buffer goes: a joined channel or a conversation; nowhere else. */
function typingTarget() {
  const current = activeBuffer();
  return (current.kind === 'channel' && current.joined) || current.kind === 'query' ? current.name : null;
}

export function renderSidebar() {
  renderBufferList($('buffer-list'), state.buffers, state.active, select, closeBuffer);
  // The unread count in the tab's title, so a background tab says there is something new.
  const unread = [...state.buffers.values()].reduce((sum, each) => sum + each.unread, 0);
  document.title = unread > 0 ? `(${unread}) ${state.network}` : state.network;
}

export function select(key) {
  if (key !== state.active && state.typing.target) state.typing.stop(state.connection);
  state.active = key;
  const chosen = activeBuffer();
  chosen.unread = 0;
  chosen.highlight = false;
  renderSidebar();
  renderMessages({ keepBottom: true });
  document.body.classList.remove('show-sidebar');
  $('input').focus();
  if (chosen.lines.length < 20) loadOlder(chosen);
  state.markers.seen(state.connection, chosen);
}

function closeBuffer(key) {
  const target = state.buffers.get(key);
  if (!target) return;
  if (target.kind === 'channel' && target.joined) state.connection.send('PART', target.name);
  state.buffers.delete(key);
  if (state.active === key) state.active = state.buffers.keys().next().value || null;
  renderSidebar();
  renderMessages({ keepBottom: true });
  saveChannels();
}

function saveChannels() {
  const channels = [...state.buffers.values()].filter((b) => b.kind === 'channel').map((b) => b.name);
  localStorage.setItem('parley.channels', JSON.stringify(channels));
}

/** CHATHISTORY for a buffer: the newest page first, then older pages as the user scrolls up. */
export function loadOlder(target) {
  const connection = state.connection;
  if (!connection || !connection.has('draft/chathistory') || target.kind === 'server' || target.kind === 'search') return;
  if (target.loadingHistory || target.historyDone) return;
  target.loadingHistory = true;
  const oldest = target.lines.find((line) => line.id);
  if (oldest) connection.send('CHATHISTORY', 'BEFORE', target.name, `msgid=${oldest.id}`, String(HISTORY_PAGE));
  else connection.send('CHATHISTORY', 'LATEST', target.name, '*', String(HISTORY_PAGE));
}

/** A small menu of `items` ({ label, aria, run }) under `anchor`; one is open at a time (closeMemberMenu). */
function openMenu(anchor, items, className = 'menu') {
  closeMemberMenu();
  const menu = document.createElement('div');
  menu.id = 'member-menu';
  menu.className = className;
  menu.setAttribute('role', 'menu');
  for (const item of items) {
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('role', 'menuitem');
    if (item.aria) button.setAttribute('aria-label', item.aria);
    button.textContent = item.label;
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      closeMemberMenu();
      item.run();
    });
    menu.append(button);
  }
  document.body.append(menu);
  // Under the anchor, or above the bottom edge when there is no room (its size is known once it is on the page).
  const box = anchor.getBoundingClientRect();
  menu.style.top = `${Math.max(Math.min(box.bottom, window.innerHeight - menu.offsetHeight - 8), 8)}px`;
  menu.style.right = `${Math.max(window.innerWidth - box.right, 8)}px`;
  menu.querySelector('button').focus();
}

/** What can be done about a member of `channel`: message, whois, and for the channel's operators op, voice, kick. */
function memberMenu(channel, nick, anchor) {
  const mine = channel.members.get(me()) || '';
  const theirs = channel.members.get(nick) || '';
  const actions = [['Message', `/query ${nick}`], ['Whois', `/whois ${nick}`]];
  if (mine.includes('@') && !isMe(nick)) {
    actions.push(theirs.includes('@') ? ['Take op', `/deop ${nick}`] : ['Give op', `/op ${nick}`]);
    actions.push(theirs.includes('+') ? ['Take voice', `/devoice ${nick}`] : ['Give voice', `/voice ${nick}`]);
    actions.push(['Kick', `/kick ${nick}`]);
  }
  openMenu(anchor, actions.map(([label, command]) => ({ label, run: () => runCommand(command) })));
}

const REACTIONS = ['👍', '❤️', '😂', '🎉', '👀'];

/** The emoji to react with, next to the line's React button. */
function reactionMenu(line, anchor) {
  const items = REACTIONS.map((emoji) => ({ label: emoji, aria: `React ${emoji}`, run: () => react(line.id, emoji) }));
  openMenu(anchor, items, 'menu reactions-menu');
}

export function closeMemberMenu() {
  const open = document.getElementById('member-menu');
  if (open) open.remove();
}

/** Whether the server would let this reader delete `line` of `target`: their own, or any in a channel they run. */
function mayDelete(target, line) {
  if (!state.connection || !state.connection.caps.has('draft/message-redaction')) return false;
  if (isMe(line.nick)) return true;
  return target.kind === 'channel' && (target.members.get(me()) || '').includes('@');
}

/** A REDACT: the line shows that it was deleted (the server has taken it out of history). */
function redacted(message) {
  const [target, msgid, reason] = message.params;
  const place = isChannel(target) ? target : isMe(target) ? message.nick : target;
  const known = state.buffers.get(fold(place || ''));
  const line = known && known.lines.find((each) => each.id === msgid);
  if (!line) return;
  line.deleted = { by: message.nick, reason: reason || '' };
  line.reactions = null;
  if (fold(known.name) === state.active) renderMessages({ keepOffsetFromBottom: true });
}

function me() {
  return state.connection ? state.connection.nick : '';
}

function isMe(nick) {
  return nick && fold(nick) === fold(me());
}

/** A PRIVMSG or NOTICE (live or from history) as a line in the right buffer. */
function chatLine(message, history) {
  const [target, text = ''] = message.params;
  const fromServer = !message.nick || message.source === message.nick && message.nick.includes('.');
  let name = target;
  if (!isChannel(target)) name = isMe(message.nick) ? target : message.nick;
  if (fromServer || name === '*') name = state.network;
  const into = fromServer ? serverBuffer() : buffer(name);
  let kind = message.command === 'NOTICE' ? 'notice' : 'message';
  let body = text;
  const action = /^\x01ACTION (.*)\x01?$/.exec(text);
  if (action) {
    kind = 'action';
    body = action[1].replace(/\x01$/, '');
  } else if (text.startsWith('\x01')) {
    return;
  }
  state.typing.ended(fold(into.name), message.nick);
  const mine = me();
  // A mention inside bold or a colour is still a mention.
  const highlight = !isMe(message.nick) && mine && new RegExp(`\\b${mine.replace(/[^\w]/g, '\\$&')}\\b`, 'i').test(stripFormatting(body));
  const reply = message.tags['+draft/reply'] || null;
  addLine(into, { id: message.tags.msgid, kind, nick: message.nick, text: body, time: timeOf(message), highlight, reply }, { history });
}

/** A reaction (TAGMSG with +draft/react and +draft/reply): counted under the line it answers, once per person. */
function reaction(message) {
  const emoji = message.tags['+draft/react'];
  const parent = message.tags['+draft/reply'];
  const [target] = message.params;
  if (!emoji || !parent || !message.nick || !target) return;
  const into = buffer(isChannel(target) ? target : isMe(message.nick) ? target : message.nick);
  const line = into.lines.find((each) => each.id === parent);
  if (!line) return;
  line.reactions = line.reactions || new Map();
  const who = line.reactions.get(emoji) || new Set();
  who.add(message.nick);
  line.reactions.set(emoji, who);
  if (fold(into.name) === state.active) renderMessages();
}

/** Sends a reaction to the line `id` of the open conversation. */
export function react(id, emoji) {
  const target = activeBuffer();
  state.connection.sendTagged({ '+draft/react': emoji, '+draft/reply': id }, 'TAGMSG', target.name);
  // Without echo-message the server does not send it back: count it now.
  if (!state.connection.has('echo-message')) {
    reaction({ tags: { '+draft/react': emoji, '+draft/reply': id }, params: [target.name], nick: me() });
  }
}

/** The line the next message answers (shown above the input until sent or cancelled). */
export function replyTo(line) {
  state.replying = line ? { id: line.id, nick: line.nick, text: line.text, buffer: state.active } : null;
  const bar = $('reply-bar');
  bar.hidden = !state.replying;
  if (state.replying) {
    $('reply-text').textContent = `Replying to ${line.nick}: ${stripFormatting(line.text).slice(0, 80)}`;
    $('input').focus();
  }
}

function eventLine(channel, text, message, history = false) {
  addLine(buffer(channel), { id: message.tags.msgid, kind: 'event', time: timeOf(message), text }, { history });
}

function prefixOf(nickWithPrefixes) {
  const symbols = new Set(state.prefixes.values());
  let index = 0;
  while (index < nickWithPrefixes.length && symbols.has(nickWithPrefixes[index])) index++;
  return [nickWithPrefixes.slice(0, index), nickWithPrefixes.slice(index)];
}

function handle(message) {
  const batchRef = message.tags.batch;
  if (batchRef && state.batches.has(batchRef) && message.command !== 'BATCH') {
    state.batches.get(batchRef).messages.push(message);
    return;
  }
  const [first, second] = message.params;
  switch (message.command) {
    case 'BATCH': {
      const ref = first.slice(1);
      if (first.startsWith('+')) state.batches.set(ref, { type: second, params: message.params.slice(2), messages: [], opening: message });
      else finishBatch(ref);
      break;
    }
    case 'PRIVMSG': case 'NOTICE':
      chatLine(message, false);
      break;
    case 'REDACT':
      redacted(message);
      break;
    case 'TAGMSG': {
      if (message.tags['+draft/react']) {
        reaction(message);
        break;
      }
      const value = message.tags['+typing'] ?? message.tags['+draft/typing'];
      if (value === undefined || !message.nick || isMe(message.nick)) break;
      state.typing.received(fold(isChannel(first) ? first : message.nick), message.nick, value);
      break;
    }
    case 'JOIN': {
      const channel = buffer(first, 'channel');
      channel.members.set(message.nick, '');
      if (isMe(message.nick)) {
        channel.joined = true;
        channel.members = new Map([[message.nick, '']]);
        channel.historyDone = false;
        saveChannels();
        if (state.switchOnJoin.delete(fold(first))) select(fold(first));
        renderSidebar();
        loadOlderOnJoin(channel);
      } else {
        eventLine(first, `${message.nick} joined`, message);
      }
      if (fold(first) === state.active) renderMessages();
      break;
    }
    case 'PART': case 'KICK': {
      const channel = buffer(first, 'channel');
      const who = message.command === 'KICK' ? second : message.nick;
      channel.members.delete(who);
      channel.away.delete(who);
      state.typing.ended(fold(first), who);
      const reason = message.params[message.command === 'KICK' ? 2 : 1];
      const verb = message.command === 'KICK' ? `was kicked by ${message.nick}` : 'left';
      eventLine(first, `${who} ${verb}${reason ? ` (${reason})` : ''}`, message);
      if (isMe(who)) {
        channel.joined = false;
        channel.members.clear();
        channel.away.clear();
        renderSidebar();
      }
      if (fold(first) === state.active) renderMessages();
      break;
    }
    case 'QUIT':
      state.typing.ended(null, message.nick);
      for (const channel of state.buffers.values()) {
        channel.away.delete(message.nick);
        if (channel.members.delete(message.nick)) eventLine(channel.name, `${message.nick} quit${first ? ` (${first})` : ''}`, message);
      }
      renderMessages();
      break;
    case 'NICK':
      state.typing.ended(null, message.nick);
      if (state.profiles.has(fold(message.nick))) {
        state.profiles.set(fold(first), state.profiles.get(fold(message.nick)));
        state.profiles.delete(fold(message.nick));
      }
      for (const channel of state.buffers.values()) {
        if (!channel.members.has(message.nick)) continue;
        channel.members.set(first, channel.members.get(message.nick));
        channel.members.delete(message.nick);
        if (channel.away.has(message.nick)) channel.away.set(first, channel.away.get(message.nick));
        channel.away.delete(message.nick);
        eventLine(channel.name, `${message.nick} is now ${first}`, message);
      }
      if (isMe(first)) $('my-nick').textContent = first;
      renderMessages();
      break;
    case 'RENAME': {
      // draft/channel-rename: the same tab (its lines, members, unread count) under the new name.
      const renamed = state.buffers.get(fold(first));
      if (!renamed || !second) break;
      renamed.name = second;
      // In its place in the list: a Map keeps the order its keys were added in.
      state.buffers = new Map([...state.buffers].map(([key, each]) => (key === fold(first) ? [fold(second), each] : [key, each])));
      if (state.active === fold(first)) state.active = fold(second);
      const why = message.params[2] ? ` (${message.params[2]})` : '';
      eventLine(second, `${message.nick} renamed ${first} to ${second}${why}`, message);
      renderSidebar();
      renderMessages();
      break;
    }
    case 'TOPIC':
      buffer(first).topic = second || '';
      eventLine(first, `${message.nick} set the topic: ${second || '(none)'}`, message);
      renderMessages();
      break;
    case 'MODE':
      if (isChannel(first)) modeChange(first, message);
      break;
    case '001':
      $('my-nick').textContent = first;
      // Avatars and display names (draft/metadata-3): the keys this page shows.
      if (state.connection.has('draft/metadata-3')) state.connection.send('METADATA', '*', 'SUB', 'avatar', 'display-name');
      break;
    case '761': case '766': {
      // A user's metadata (channels' is not shown); 766 says a key is not set (any more).
      const [, target, key, , value] = message.params;
      if (!target || isChannel(target) || (key !== 'avatar' && key !== 'display-name')) break;
      const profile = { ...(state.profiles.get(fold(target)) || {}) };
      if (message.command === '761') profile[key] = value || '';
      else delete profile[key];
      state.profiles.set(fold(target), profile);
      renderMessages();
      break;
    }
    case '005':
      for (const token of message.params.slice(1, -1)) {
        if (token.startsWith('NETWORK=')) state.network = token.slice(8);
        const prefix = /^PREFIX=\((\w+)\)(.+)$/.exec(token);
        if (prefix) state.prefixes = new Map([...prefix[1]].map((mode, i) => [mode, prefix[2][i]]));
      }
      $('network-name').textContent = state.network;
      break;
    case '332':
      buffer(second).topic = message.params[2] || '';
      renderMessages();
      break;
    case '353': {
      const channel = buffer(message.params[2], 'channel');
      for (const entry of (message.params[3] || '').split(' ')) {
        if (!entry) continue;
        const [prefix, nick] = prefixOf(entry);
        channel.members.set(nick.split('!')[0], prefix);
      }
      break;
    }
    case '321':
      state.listing = [];
      break;
    case '322':
      (state.listing || (state.listing = [])).push({ channel: second, users: message.params[2], topic: message.params[3] || '' });
      break;
    case '323': {
      // The channel browser: a view of its own, busiest first, each with a Join button.
      const list = buffer('Channels', 'list');
      const found = (state.listing || []).sort((a, b) => Number(b.users) - Number(a.users));
      list.lines = found.map((entry) => ({
        kind: 'listing', channel: entry.channel, users: entry.users === '1' ? '1 user' : `${entry.users} users`,
        text: entry.topic, time: new Date(), joined: Boolean(state.buffers.get(fold(entry.channel))?.joined),
      }));
      if (found.length === 0) list.lines = [{ kind: 'info', text: 'No channels to show.', time: new Date() }];
      list.ids.clear();
      state.listing = null;
      select(fold(list.name));
      break;
    }
    case '366': {
      // Who is away is not in NAMES: a WHO tells (flag G), quietly, for channels small enough to ask about.
      const channel = state.buffers.get(fold(second || ''));
      if (channel && state.namesWanted.delete(fold(channel.name))) {
        const names = [...channel.members.entries()].map(([nick, prefix]) => prefix.slice(0, 1) + nick).sort();
        info(`In ${channel.name} (${names.length}): ${names.join(', ')}`, 'info', channel);
      }
      if (channel && channel.joined && state.connection.has('away-notify') && !channel.quietWho
        && channel.members.size <= 500) {
        channel.quietWho = true;
        state.connection.send('WHO', channel.name);
      }
      renderMessages();
      break;
    }
    case '352': case '315': {
      const channel = state.buffers.get(fold(second || ''));
      if (!channel || !channel.quietWho) {
        info(message.params.slice(1).join(' '));
      } else if (message.command === '315') {
        channel.quietWho = false;
        renderMessages();
      } else if ((message.params[6] || '').startsWith('G')) {
        if (!channel.away.has(message.params[5])) channel.away.set(message.params[5], '');
      } else {
        channel.away.delete(message.params[5]);
      }
      break;
    }
    case 'AWAY':
      for (const channel of state.buffers.values()) {
        if (!channel.members.has(message.nick)) continue;
        if (first) channel.away.set(message.nick, first);
        else channel.away.delete(message.nick);
      }
      renderMessages();
      break;
    case '900': case '901':
      // Markers are worth sending for an account only: the server keeps a guest's for the connection, which
      // is no more than the page itself knows.
      state.markers.account = message.command === '900' ? message.params[2] : null;
      info(message.params[message.params.length - 1], 'info', serverBuffer());
      break;
    case 'MARKREAD': {
      // Read here or on another device: what was said before the marker is no longer unread.
      const marker = state.markers.arrived(first, second);
      const target = state.buffers.get(fold(first || ''));
      if (marker && target && fold(target.name) !== state.active) {
        ReadMarkers.recount(target, marker, isMe);
        renderSidebar();
      }
      break;
    }
    case '372': case '375': case '376': case '422': case '002': case '003': case '004': case '251': case '252':
    case '253': case '254': case '255': case '265': case '266': case 'CAP': case 'PONG': case 'AUTHENTICATE':
    case '333': case '903': case 'ACCOUNT':
      if (message.command === '372') info(message.params[message.params.length - 1], 'info', serverBuffer());
      break;
    case '311': // WHOIS, in words
      info(`${second} is ${message.params[2]}@${message.params[3]} (${message.params[5] || ''})`);
      break;
    case '319':
      info(`${second} is in ${message.params[2]}`);
      break;
    case '312':
      info(`${second} is on ${message.params[2]} (${message.params[3] || ''})`);
      break;
    case '330':
      info(`${second} is logged in as ${message.params[2]}`);
      break;
    case '317': {
      const since = new Date(Number(message.params[3]) * 1000);
      info(`${second} has been idle ${message.params[2]} s, connected since ${since.toLocaleString()}`);
      break;
    }
    case '338':
      info(`${second} is connecting from ${message.params[2]}`);
      break;
    case '379': case '318':
      break;
    case 'FAIL':
      info(`${message.params.slice(0, 2).join(' ')}: ${message.params[message.params.length - 1]}`, 'error');
      break;
    case 'ERROR':
      info(first || 'The server closed the connection.', 'error', serverBuffer());
      break;
    default:
      if (/^\d{3}$/.test(message.command)) {
        const text = message.params.slice(1).join(' ');
        info(text, message.command.startsWith('4') || message.command.startsWith('5') ? 'error' : 'info');
      }
  }
}

function modeChange(channelName, message) {
  const channel = buffer(channelName, 'channel');
  const modes = message.params[1] || '';
  const args = message.params.slice(2);
  let adding = true;
  for (const mode of modes) {
    if (mode === '+' || mode === '-') {
      adding = mode === '+';
      continue;
    }
    if (state.prefixes.has(mode)) {
      const nick = args.shift();
      const symbol = state.prefixes.get(mode);
      const current = channel.members.get(nick) || '';
      const next = adding ? (current.includes(symbol) ? current : symbol + current) : current.replace(symbol, '');
      const order = [...state.prefixes.values()];
      channel.members.set(nick, [...next].sort((a, b) => order.indexOf(a) - order.indexOf(b)).join(''));
    } else if ('beIkl'.includes(mode) && (adding || mode !== 'l')) {
      args.shift();
    }
  }
  eventLine(channelName, `${message.nick} set mode ${message.params.slice(1).join(' ')}`, message);
  renderMessages();
}

/** On joining (again, after a reconnect too): the newest page, which also fills the gap while away (msgids dedupe). */
function loadOlderOnJoin(channel) {
  if (!state.connection.has('draft/chathistory')) return;
  channel.loadingHistory = true;
  state.connection.send('CHATHISTORY', 'LATEST', channel.name, '*', String(HISTORY_PAGE));
}

function finishBatch(ref) {
  const batch = state.batches.get(ref);
  state.batches.delete(ref);
  if (!batch) return;
  if (batch.type === 'chathistory') {
    const target = buffer(batch.params[0]);
    for (const message of batch.messages) {
      if (message.command === 'PRIVMSG' || message.command === 'NOTICE') chatLine(message, true);
    }
    target.loadingHistory = false;
    if (batch.messages.length < HISTORY_PAGE && !state.focus) target.historyDone = true;
    if (fold(target.name) === state.active) renderMessages({ keepOffsetFromBottom: true });
    if (state.focus && fold(state.focus.place) === fold(target.name)) showFocused();
  } else if (batch.type === 'draft/multiline') {
    // One message: the opening line's tags (msgid, time, reply) and its lines joined, a concat line without a break.
    const lines = batch.messages.filter((each) => each.command === 'PRIVMSG' || each.command === 'NOTICE');
    if (lines.length === 0) return;
    const text = lines.map((each, index) => (index > 0 && !('draft/multiline-concat' in each.tags) ? '\n' : '') + (each.params[1] || '')).join('');
    const { batch: outer, ...tags } = batch.opening.tags;
    const message = { ...batch.opening, tags, command: lines[0].command, params: [batch.params[0], text] };
    // Inside a chathistory or search batch it is one of that batch's messages.
    if (outer && state.batches.has(outer)) state.batches.get(outer).messages.push(message);
    else handle(message);
  } else if (batch.type === 'draft/chathistory-targets') {
    // Conversations open in the sidebar as they were; channels are rejoined, not listed from here.
    const active = state.active;
    for (const message of batch.messages) {
      const name = message.params[1];
      if (name && !isChannel(name)) buffer(name, 'query');
    }
    state.active = active;
    renderSidebar();
  } else if (batch.type === 'soju.im/search') {
    const results = buffer(`Search: ${state.lastSearch || ''}`, 'search');
    results.lines = [];
    results.ids.clear();
    for (const message of batch.messages) {
      const [target, text = ''] = message.params;
      // Where the hit was said: the channel, or for a DM the other person.
      const place = isChannel(target) ? target : isMe(message.nick) ? target : message.nick;
      addLine(results, { id: message.tags.msgid, kind: 'message', nick: message.nick, text: `${isChannel(target) ? `[${target}] ` : ''}${text}`, time: timeOf(message), jump: { place, msgid: message.tags.msgid } }, { history: true });
    }
    if (batch.messages.length === 0) info('Nothing found.', 'info', results);
    select(fold(results.name));
  } else {
    for (const message of batch.messages) handle(message);
  }
}

/** A search hit was chosen: open where it was said, with the conversation around it (CHATHISTORY AROUND). */
function jumpTo(place, msgid) {
  const target = buffer(place);
  state.focus = { place, msgid };
  select(fold(target.name));
  if (target.ids.has(msgid)) return showFocused();
  state.connection.send('CHATHISTORY', 'AROUND', target.name, `msgid=${msgid}`, String(HISTORY_PAGE));
}

/** Scrolls to the line jumped to, once it is there (the newest page may arrive before the page around it). */
function showFocused() {
  const { msgid } = state.focus;
  const node = [...$('messages').querySelectorAll('.line')].find((line) => line.dataset.id === msgid);
  if (!node) return;
  state.focus = null;
  node.classList.add('focused');
  node.scrollIntoView({ block: 'center' });
}

function connect(nick, password, channel, serverPassword) {
  $('connect-error').textContent = '';
  $('connect-button').disabled = true;
  const connection = new Connection({
    nick,
    password,
    serverPassword,
    onMessage: handle,
    onRegistered: () => {
      $('connect-screen').hidden = true;
      $('chat-screen').hidden = false;
      $('search-form').hidden = !connection.has('soju.im/search');
      const saved = JSON.parse(localStorage.getItem('parley.channels') || '[]');
      const rejoin = [...state.buffers.values()].filter((b) => b.kind === 'channel').map((b) => b.name);
      const channels = new Set([...(rejoin.length ? rejoin : saved), ...(channel ? [channel] : [])]);
      for (const name of channels) connection.send('JOIN', name);
      // A logged-in person's conversations come back after a reload (the server keeps them for the account).
      if (state.markers.account && connection.has('draft/chathistory')) {
        const now = Date.now();
        const since = new Date(now - 90 * 86400000).toISOString();
        connection.send('CHATHISTORY', 'TARGETS', `timestamp=${since}`, `timestamp=${new Date(now + 60000).toISOString()}`, '50');
      }
      $('input').focus();
    },
    onStatus: (kind, text) => {
      // A new connection is logged in again (900) or not at all: until then no marker is sent.
      if (kind !== 'online' && kind !== 'reconnected') state.markers.account = null;
      const banner = $('status-banner');
      banner.hidden = kind === 'online' || kind === 'reconnected';
      banner.textContent = text;
      banner.className = `banner ${kind}`;
      if (kind === 'reconnected') info('Reconnected.', 'info', serverBuffer());
    },
    onFatal: (text) => {
      $('connect-button').disabled = false;
      $('connect-error').textContent = text;
      $('connect-screen').hidden = false;
      $('chat-screen').hidden = true;
    },
  });
  state.connection = connection;
  connection.open();
}

function setup() {
  $('nick').value = localStorage.getItem('parley.nick') || '';
  $('channel').value = localStorage.getItem('parley.channel') || '#lobby';
  $('connect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const nick = $('nick').value.trim();
    const channel = $('channel').value.trim();
    if (!/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/.test(nick)) {
      $('connect-error').textContent = 'A nickname starts with a letter and has no spaces.';
      return;
    }
    if (channel && !isChannel(channel)) {
      $('connect-error').textContent = 'A channel name starts with #.';
      return;
    }
    localStorage.setItem('parley.nick', nick);
    localStorage.setItem('parley.channel', channel);
    connect(nick, $('password').value, channel, $('server-password').value);
  });
  const input = $('input');
  // The box grows with what is in it (a pasted snippet), up to a part of the screen.
  const fit = () => {
    input.style.height = 'auto';
    input.style.height = `${input.scrollHeight + 2}px`;
  };
  $('input-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    // What could not be sent stays in the box: nothing typed is lost.
    if (!state.connection || !state.connection.isOpen()) {
      info('Not connected: your message is kept in the box; send it again once reconnected.', 'error');
      return;
    }
    state.typing.submitted(state.connection, text);
    if (runCommand(text) === false) return;
    state.lastSent = text;
    input.value = '';
    fit();
  });
  // Enter sends, Shift+Enter starts a new line (and a pasted snippet keeps its lines).
  let completing = null;
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') completing = null;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('input-form').requestSubmit();
    } else if (event.key === 'ArrowUp' && !event.altKey && !event.ctrlKey && input.value === '' && state.lastSent) {
      // Up on an empty line brings back the last line sent, to correct or send again.
      event.preventDefault();
      input.value = state.lastSent;
      fit();
    } else if (event.key === 'Tab' && !event.shiftKey && input.value) {
      const current = activeBuffer();
      const names = [...current.members.keys(), ...[...state.buffers.values()].filter((b) => b.kind === 'channel').map((b) => b.name)];
      const done = complete(input.value, input.selectionStart, names, completing);
      if (done) {
        event.preventDefault();
        input.value = done.text;
        input.setSelectionRange(done.cursor, done.cursor);
        completing = done;
      }
    }
  });
  input.addEventListener('input', () => {
    fit();
    state.typing.composing(state.connection, typingTarget(), input.value);
  });
  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('join-input').value.trim();
    $('join-input').value = '';
    if (!name) return;
    const known = state.buffers.get(fold(name));
    if (known && (known.joined || known.kind !== 'channel')) {
      // Already open: the box doubles as a quick switcher (Ctrl+K).
      select(fold(known.name));
    } else if (isChannel(name)) {
      state.switchOnJoin.add(fold(name));
      state.connection.send('JOIN', name);
    } else {
      select(fold(buffer(name, 'query').name));
    }
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('search-input').value.trim();
    if (text) runCommand(`/search ${text}`);
  });
  $('messages').addEventListener('scroll', () => {
    if ($('messages').scrollTop < 40) loadOlder(activeBuffer());
  });
  $('menu-button').addEventListener('click', (event) => {
    event.stopPropagation();
    document.body.classList.toggle('show-sidebar');
  });
  $('members-button').addEventListener('click', (event) => {
    event.stopPropagation();
    document.body.classList.toggle('show-members');
  });
  // The phone's drawers close with Esc, or a tap anywhere outside them.
  $('reply-cancel').addEventListener('click', () => replyTo(null));
  const closeDrawers = () => {
    document.body.classList.remove('show-sidebar', 'show-members');
    closeMemberMenu();
  };
  // The channel browser's Join buttons.
  $('messages').addEventListener('click', (event) => {
    const action = event.target.closest('[data-line-action]');
    if (action) {
      event.stopPropagation();
      const line = activeBuffer().lines.find((each) => each.id === action.dataset.lineId);
      if (!line) return;
      if (action.dataset.lineAction === 'reply') replyTo(line);
      else if (action.dataset.lineAction === 'delete') state.connection.send('REDACT', activeBuffer().name, line.id);
      else if (action.dataset.lineAction === 'react-with') react(line.id, action.dataset.emoji);
      else reactionMenu(line, action);
      return;
    }
    const hit = event.target.closest('.line[data-jump-place]');
    if (hit && !event.target.closest('a')) jumpTo(hit.dataset.jumpPlace, hit.dataset.jumpId);
    const join = event.target.closest('.join-channel');
    if (!join) return;
    const known = state.buffers.get(fold(join.dataset.channel));
    if (known && known.joined) select(fold(known.name));
    else runCommand(`/join ${join.dataset.channel}`);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      const open = document.body.classList.contains('show-sidebar') || document.body.classList.contains('show-members')
        || document.getElementById('member-menu');
      closeDrawers();
      // Esc with nothing to close marks every conversation read.
      if (!open) {
        for (const each of state.buffers.values()) {
          each.unread = 0;
          each.highlight = false;
        }
        renderSidebar();
      }
    } else if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
      event.preventDefault();
      const next = neighbour([...state.buffers.keys()], state.active, event.key === 'ArrowUp' ? -1 : 1);
      if (next) select(next);
    } else if (event.ctrlKey && event.key.toLowerCase() === 'k') {
      event.preventDefault();
      $('join-input').focus();
    }
  });
  // Coming back to the tab is reading what is on screen.
  document.addEventListener('visibilitychange', () => state.markers.seen(state.connection, activeBuffer()));
  document.addEventListener('click', (event) => {
    if (!$('sidebar').contains(event.target) && !$('members').contains(event.target)) closeDrawers();
  });
}

setup();

setProfiles((nick) => state.profiles.get(fold(nick || '')) || null);
