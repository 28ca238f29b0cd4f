// What a typed line does: text goes to the open buffer, `/command` works as in the terminal client.

import { fold, isChannel, splitText, utf8Length } from './irc.js';
import { activeBuffer, addLine, buffer, info, renderMessages, replyTo, select, state } from './app.js';
import { setShowFormatting } from './view.js';

// What fits one IRC line once the server puts the sender's prefix in front (as the terminal client counts).
const TEXT_BYTES = 400;

const HELP = [
  '/join #channel [key] — join a channel', '/part [#channel] [reason] — leave', '/msg nick text — private message',
  '/query nick — open a conversation', '/me text — action', '/nick name — change your name',
  '/topic [text] — show or set the topic', '/whois nick — who is that', '/away [text] — set or clear away',
  '/search text — search history', '/clear — clear this view', '/raw LINE — send a raw IRC line',
  '/list — browse the channels', '/names [#channel] — who is in it', '/invite nick [#channel] — invite someone',
  'For channel operators: /op /deop /voice /devoice nick, /kick nick [reason], /ban /unban nick-or-mask,',
  '  /mode [#channel] modes [arguments], /topic text.',
  '/formatting on|off — show or strip colours and bold from others', '/quit [reason] — leave the server',
  '/displayname [name] — the name shown on your lines', '/avatar [https://…] — the picture shown beside them',
  'Shift+Enter starts a new line; a message of several lines goes out as one message (as one line each where the',
  '  server lacks draft/multiline), long lines in pieces.',
];

/** Sends `text` to `target`, in as many lines as the server's line limit needs (cut at spaces). */
function say(target, text, { action = false } = {}) {
  const connection = state.connection;
  // Too long for one line: one multiline message of concatenated pieces where the server takes it.
  if (!action && utf8Length(text) > TEXT_BYTES - utf8Length(target.name) && sayLines(target, text)) return;
  // A reply (chosen with a line's Reply button) is tagged on the first line sent to that conversation.
  let reply = state.replying && state.replying.buffer === fold(target.name) ? state.replying.id : null;
  if (reply) replyTo(null);
  for (const piece of splitText(text, TEXT_BYTES - utf8Length(target.name))) {
    const body = action ? `\x01ACTION ${piece}\x01` : piece;
    if (reply && connection.has('message-tags')) connection.sendTagged({ '+draft/reply': reply }, 'PRIVMSG', target.name, body);
    else connection.send('PRIVMSG', target.name, body);
    reply = null;
    // Without echo-message the server does not send our own line back: show it now.
    if (!connection.has('echo-message')) {
      addLine(target, { kind: action ? 'action' : 'message', nick: connection.nick, text: piece, time: new Date() });
    }
  }
}

let batchCounter = 0;

/**
 * Sends a snippet of several lines as draft/multiline messages: each line that is too long for one IRC line goes in
 * pieces joined with draft/multiline-concat (cut after a space, so it reads well as separate lines too), and a snippet
 * over the server's limits goes as several messages. - Returns: false when the server does not take multiline.
 */
function sayLines(target, text) {
  const connection = state.connection;
  const limits = connection.multiline();
  if (!limits) return false;
  const lines = text.replace(/\r\n?/g, '\n').replace(/^\n+|\n+$/g, '').split('\n');
  const pieces = [];
  for (const line of lines) {
    splitText(line, TEXT_BYTES - utf8Length(target.name)).forEach((piece, index) => pieces.push({ text: piece, concat: index > 0 }));
  }
  let reply = state.replying && state.replying.buffer === fold(target.name) ? state.replying.id : null;
  if (reply) replyTo(null);
  let start = 0;
  while (start < pieces.length) {
    // As many pieces as the limits allow; a message never starts with a concat piece's predecessor missing.
    let end = start;
    let bytes = 0;
    while (end < pieces.length && end - start < limits.maxLines) {
      const cost = utf8Length(pieces[end].text) + (end > start && !pieces[end].concat ? 1 : 0);
      if (end > start && bytes + cost > limits.maxBytes) break;
      bytes += cost;
      end++;
    }
    const reference = `p${Date.now().toString(36)}${(batchCounter++).toString(36)}`;
    const opening = ['BATCH', `+${reference}`, 'draft/multiline', target.name];
    if (reply) connection.sendTagged({ '+draft/reply': reply }, ...opening);
    else connection.send(...opening);
    reply = null;
    pieces.slice(start, end).forEach((piece, index) => {
      const tags = { batch: reference };
      if (piece.concat && index > 0) tags['draft/multiline-concat'] = '';
      connection.sendTagged(tags, 'PRIVMSG', target.name, piece.text);
    });
    connection.send('BATCH', `-${reference}`);
    if (!connection.has('echo-message')) {
      const shown = pieces.slice(start, end).map((piece, index) => (index > 0 && !piece.concat ? '\n' : '') + piece.text).join('');
      addLine(target, { kind: 'message', nick: connection.nick, text: shown, time: new Date() });
    }
    start = end;
  }
  return true;
}

function canTalkIn(target) {
  if (target.kind === 'server' || target.kind === 'search' || target.kind === 'list') {
    info('This is not a channel or conversation: /join #channel or /msg nick first.', 'error');
    return false;
  }
  return true;
}

/**
 * Runs what was typed (or pasted). - Returns: false when nothing could be sent, so the text stays in the box.
 */
export function runCommand(text) {
  const connection = state.connection;
  const target = activeBuffer();
  if (text.includes('\n')) {
    // A paste of several lines (never a command): one message with its line breaks where the server takes
    // draft/multiline, else each line a message of its own, blank lines left out.
    if (!canTalkIn(target)) return false;
    if (text.trim() && sayLines(target, text)) return true;
    for (const line of text.split(/\r?\n/)) if (line.trim()) say(target, line);
    return true;
  }
  if (!text.startsWith('/') || text.startsWith('//')) {
    if (!canTalkIn(target)) return false;
    say(target, text.startsWith('//') ? text.slice(1) : text);
    return true;
  }
  const [rawName, ...words] = text.slice(1).split(' ');
  const name = rawName.toLowerCase();
  const rest = words.join(' ');
  switch (name) {
    case 'join': case 'j':
      if (!words[0]) return info('Usage: /join #channel [key]', 'error');
      state.switchOnJoin.add(fold(isChannel(words[0]) ? words[0] : `#${words[0]}`));
      connection.send('JOIN', isChannel(words[0]) ? words[0] : `#${words[0]}`, ...words.slice(1, 2));
      return;
    case 'part': case 'leave': {
      const channel = isChannel(words[0] || '') ? words.shift() : target.name;
      if (!isChannel(channel)) return info('Usage: /part [#channel] [reason]', 'error');
      connection.send('PART', channel, ...(words.length ? [words.join(' ')] : []));
      return;
    }
    case 'msg': case 'query': {
      if (!words[0]) return info(`Usage: /${name} nick${name === 'msg' ? ' text' : ''}`, 'error');
      const conversation = buffer(words[0]);
      if (name === 'msg' && words.length > 1) say(conversation, words.slice(1).join(' '));
      select(fold(conversation.name));
      return true;
    }
    case 'list':
      connection.send('LIST', ...(words[0] ? [words[0]] : []));
      return true;
    case 'names': {
      const channel = isChannel(words[0] || '') ? words[0] : target.kind === 'channel' ? target.name : null;
      if (!channel) return info('Usage: /names [#channel]', 'error');
      state.namesWanted.add(fold(channel));
      connection.send('NAMES', channel);
      return true;
    }
    case 'invite': {
      const channel = words[1] || (target.kind === 'channel' ? target.name : null);
      if (!words[0] || !channel) return info('Usage: /invite nick [#channel]', 'error');
      connection.send('INVITE', words[0], channel);
      return true;
    }
    case 'op': case 'deop': case 'voice': case 'devoice': case 'ban': case 'unban': {
      if (target.kind !== 'channel') return info(`/${name} works in a channel.`, 'error');
      if (!words[0]) return info(`Usage: /${name} ${name.endsWith('ban') ? 'nick-or-mask' : 'nick'}`, 'error');
      const flag = { op: '+o', deop: '-o', voice: '+v', devoice: '-v', ban: '+b', unban: '-b' }[name];
      // A ban on a bare nick covers that nick from anywhere (nick!*@*).
      const subjects = words.map((word) => (name.endsWith('ban') && !/[!@*]/.test(word) ? `${word}!*@*` : word));
      connection.send('MODE', target.name, flag[0] + flag[1].repeat(subjects.length), ...subjects);
      return true;
    }
    case 'kick': {
      if (target.kind !== 'channel') return info('/kick works in a channel.', 'error');
      if (!words[0]) return info('Usage: /kick nick [reason]', 'error');
      connection.send('KICK', target.name, words[0], ...(words.length > 1 ? [words.slice(1).join(' ')] : []));
      return true;
    }
    case 'mode': {
      const channel = isChannel(words[0] || '') ? words.shift() : target.kind === 'channel' ? target.name : null;
      if (!channel) return info('Usage: /mode [#channel] modes [arguments]', 'error');
      connection.send('MODE', channel, ...words);
      return true;
    }
    case 'formatting': {
      if (words[0] !== 'on' && words[0] !== 'off') return info('Usage: /formatting on|off', 'error');
      setShowFormatting(words[0] === 'on');
      renderMessages();
      info(words[0] === 'on' ? 'Colours and bold from others are shown.' : 'Colours and bold from others are stripped.');
      return true;
    }
    case 'me':
      if (!['channel', 'query'].includes(target.kind)) return info('/me works in a channel or conversation.', 'error');
      say(target, rest, { action: true });
      return;
    case 'nick':
      if (!words[0]) return info('Usage: /nick name', 'error');
      connection.send('NICK', words[0]);
      return;
    case 'topic':
      if (target.kind !== 'channel') return info('/topic works in a channel.', 'error');
      if (rest) connection.send('TOPIC', target.name, rest);
      else info(target.topic ? `Topic: ${target.topic}` : 'No topic is set.');
      return;
    case 'whois':
      if (!words[0]) return info('Usage: /whois nick', 'error');
      connection.send('WHOIS', words[0]);
      return;
    case 'away':
      if (rest) connection.send('AWAY', rest);
      else connection.send('AWAY');
      return;
    case 'avatar': case 'displayname': {
      // IRCv3 metadata on yourself; without a value the key is removed.
      if (!connection.has('draft/metadata-3')) return info('This server does not keep avatars or display names.', 'error');
      const key = name === 'avatar' ? 'avatar' : 'display-name';
      if (key === 'avatar' && rest && !/^https:\/\/\S+$/i.test(rest)) return info('Usage: /avatar https://… (an image link), or /avatar to remove it', 'error');
      if (rest) connection.send('METADATA', '*', 'SET', key, rest);
      else connection.send('METADATA', '*', 'SET', key);
      return;
    }
    case 'search':
      if (!connection.has('soju.im/search')) return info('This server does not offer search.', 'error');
      if (!rest) return info('Usage: /search text', 'error');
      state.lastSearch = rest;
      connection.send('SEARCH', `text=${rest.replace(/[;=]/g, ' ')}`);
      return;
    case 'clear':
      target.lines = [];
      target.ids.clear();
      renderMessages();
      return;
    case 'raw': case 'quote':
      if (!rest) return info('Usage: /raw LINE', 'error');
      connection.sendRaw(rest);
      return;
    case 'help':
      for (const line of HELP) info(line);
      return;
    case 'quit':
      connection.close(rest || 'Leaving');
      setTimeout(() => location.reload(), 400);
      return;
    default:
      info(`Unknown command /${rawName}. /help lists the commands.`, 'error');
  }
}
