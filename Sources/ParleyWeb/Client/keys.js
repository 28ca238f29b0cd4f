// Keyboard use of the chat: switching conversations, recalling the last line, completing names, marking read.

/**
 * The word before the cursor completed from `candidates` (nicks of the channel, names of channels): the first match
 * by prefix, case-insensitively, or the next one on each further Tab. Returns null when nothing matches.
 */
export function complete(text, cursor, candidates, previous = null) {
  const again = previous && previous.text === text && previous.cursor === cursor;
  // Tab again: the completion shown is replaced by the next match of the word that was typed.
  const start = again ? previous.start : text.slice(0, cursor).search(/\S*$/);
  const word = again ? previous.word : text.slice(start, cursor);
  if (!word) return null;
  const lower = word.toLowerCase();
  const matches = [...new Set(candidates)].filter((name) => name.toLowerCase().startsWith(lower));
  if (matches.length === 0) return null;
  const index = again ? (previous.index + 1) % matches.length : 0;
  const atStart = start === 0 && !matches[index].startsWith('#');
  const completion = matches[index] + (atStart ? ': ' : ' ');
  const after = text.slice(cursor).replace(/^ /, '');
  const result = text.slice(0, start) + completion + after;
  const newCursor = start + completion.length;
  return { text: result, cursor: newCursor, word, index, start };
}

/** The buffer `step` places away from `active` in `keys` (wrapping around). */
export function neighbour(keys, active, step) {
  if (keys.length === 0) return null;
  const index = keys.indexOf(active);
  return keys[(index + step + keys.length) % keys.length];
}
