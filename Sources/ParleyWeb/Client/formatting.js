// IRC text formatting (bold ^B, italic ^], underline ^_, strikethrough ^^, monospace ^Q, reverse ^V, colours ^C and
// hex colours ^D, reset ^O; https://modern.ircdocs.horse/formatting) turned into styled runs of plain text. The text
// itself is only ever inserted as text nodes; formatting becomes classes and colour values, never HTML.

// The palette (https://modern.ircdocs.horse/formatting#colors): 0–15, then the extended 16–98; 99 is "default".
const PALETTE = [
  'ffffff', '000000', '00007f', '009300', 'ff0000', '7f0000', '9c009c', 'fc7f00',
  'ffff00', '00fc00', '009393', '00ffff', '0000fc', 'ff00ff', '7f7f7f', 'd2d2d2',
  '470000', '472100', '474700', '324700', '004700', '00472c', '004747', '002747', '000047', '2e0047', '470047', '47002a',
  '740000', '743a00', '747400', '517400', '007400', '007449', '007474', '004074', '000074', '4b0074', '740074', '740045',
  'b50000', 'b56300', 'b5b500', '7db500', '00b500', '00b571', '00b5b5', '0063b5', '0000b5', '7500b5', 'b500b5', 'b5006b',
  'ff0000', 'ff8c00', 'ffff00', 'b2ff00', '00ff00', '00ffa0', '00ffff', '008cff', '0000ff', 'a500ff', 'ff00ff', 'ff0098',
  'ff5959', 'ffb459', 'ffff71', 'cfff60', '6fff6f', '65ffc9', '6dffff', '59b4ff', '5959ff', 'c459ff', 'ff66ff', 'ff59bc',
  'ff9c9c', 'ffd39c', 'ffff9c', 'e2ff9c', '9cff9c', '9cffdb', '9cffff', '9cd3ff', '9c9cff', 'dc9cff', 'ff9cff', 'ff94d3',
  '000000', '131313', '282828', '363636', '4d4d4d', '656565', '818181', '9f9f9f', 'bcbcbc', 'e2e2e2', 'ffffff',
];

/**
 * The CSS colour for a run's colour (a palette code 0–98, or `#rrggbb` from a hex colour), or null for none.
 * `onPage`: a text colour on the page's own background. The first 16 then come from CSS variables that each theme
 * sets so none of them vanishes (white text on the light theme, black on the dark); with a background colour given,
 * the pair is what the sender chose and is kept exact.
 */
export function cssColour(value, onPage) {
  if (typeof value === 'string') return value;
  if (typeof value !== 'number' || value < 0 || value > 98) return null;
  if (onPage && value <= 15) return `var(--irc-${value})`;
  return `#${PALETTE[value]}`;
}

const TOGGLES = { '\x02': 'bold', '\x1d': 'italic', '\x1f': 'underline', '\x1e': 'strike', '\x11': 'monospace', '\x16': 'reverse' };
const CODES = /[\x02\x1d\x1f\x1e\x11\x16\x0f\x03\x04]/;

function plain() {
  return { bold: false, italic: false, underline: false, strike: false, monospace: false, reverse: false, fg: null, bg: null };
}

/**
 * Splits `text` into runs of { text, style }: each style has the flags above and fg/bg (a palette code, `#rrggbb`,
 * or null; 99 means the default colour).
 */
export function formatRuns(text) {
  const runs = [];
  let style = plain();
  let current = '';
  const flush = () => {
    if (current) runs.push({ text: current, style: { ...style } });
    current = '';
  };
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (!CODES.test(char)) {
      current += char;
      index += 1;
      continue;
    }
    flush();
    index += 1;
    if (char in TOGGLES) {
      style[TOGGLES[char]] = !style[TOGGLES[char]];
    } else if (char === '\x0f') {
      style = plain();
    } else if (char === '\x03') {
      const match = /^(\d{1,2})(?:,(\d{1,2}))?/.exec(text.slice(index));
      if (!match) {
        style.fg = null;
        style.bg = null;
      } else {
        style.fg = Number(match[1]);
        if (match[2] !== undefined) style.bg = Number(match[2]);
        index += match[0].length;
      }
    } else if (char === '\x04') {
      const match = /^([0-9a-fA-F]{6})(?:,([0-9a-fA-F]{6}))?/.exec(text.slice(index));
      if (!match) {
        style.fg = null;
        style.bg = null;
      } else {
        style.fg = `#${match[1]}`;
        if (match[2] !== undefined) style.bg = `#${match[2]}`;
        index += match[0].length;
      }
    }
  }
  flush();
  return runs;
}

/** `text` without any formatting codes (for mentions, notifications and the "strip formatting" setting). */
export function stripFormatting(text) {
  return formatRuns(text).map((run) => run.text).join('');
}
