// Where a JSON text first goes wrong, by line and column, for the json field's editor. A small
// RFC 8259 scanner rather than JSON.parse: Chromium's messages often leave out the position
// ("Unexpected token '}', ... is not valid JSON").

const WHITESPACE = " \t\n\r";
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPE = /\\(["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

class Wrong {
  constructor(at, reason) {
    this.at = at;
    this.reason = reason;
  }
}

/** Null for valid JSON or an empty text; else ``{at, message}``, ``at`` an offset in ``text``. */
export function jsonProblem(text) {
  if (!text.trim()) return null;
  try {
    scan(text);
    return null;
  } catch (wrong) {
    // Only a Wrong is the text's fault; should the check itself fail, the server judges.
    if (!(wrong instanceof Wrong)) return null;
    const before = text.slice(0, wrong.at);
    const line = before.split("\n").length;
    const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
    return { at: wrong.at, message: `Invalid JSON at line ${line}, column ${column}: ${wrong.reason}.` };
  }
}

// Iterative, with the open objects and arrays on a stack of their closing brackets: however
// deep the nesting, no call stack overflows.
function scan(text) {
  let at = 0;
  const closers = [];
  const fail = (reason, where = at) => {
    throw new Wrong(where, reason);
  };
  const space = () => {
    while (at < text.length && WHITESPACE.includes(text[at])) at++;
  };
  const expect = (what) => fail(at < text.length
    ? `${what} expected, not "${String.fromCodePoint(text.codePointAt(at))}"` : `${what} expected at the end`);

  function key() {
    space();
    if (text[at] !== '"') expect("a property name in double quotes");
    string();
    space();
    if (text[at] !== ":") expect('":"');
    at++;
  }

  // A value that holds no other: a string, a number, true, false or null.
  function scalar() {
    if (text[at] === '"') return string();
    NUMBER.lastIndex = at;
    if (NUMBER.test(text)) return (at = NUMBER.lastIndex);
    const word = ["true", "false", "null"].find((item) => text.startsWith(item, at));
    if (word) return (at += word.length);
    expect("a value");
  }

  function string() {
    const start = at++;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === "\\") {
        ESCAPE.lastIndex = at;
        if (!ESCAPE.test(text)) fail("an invalid escape in a string");
        at = ESCAPE.lastIndex;
      } else if (text.charCodeAt(at) < 0x20) {
        fail(text[at] === "\n" ? "a line break inside a string (write \\n)" : "a control character inside a string");
      } else {
        at++;
      }
    }
    if (at >= text.length) fail("this string is never closed", start);
    at++;
  }

  for (;;) {
    // a value: an object or an array opens (its first member comes next), else it is whole
    space();
    const close = { "{": "}", "[": "]" }[text[at]];
    if (close) {
      at++;
      space();
      if (text[at] !== close) {
        closers.push(close);
        if (close === "}") key();
        continue;
      }
      at++;
    } else {
      scalar();
    }
    // after a whole value: close what ends here, then the next member, or the end of the text
    for (;;) {
      space();
      if (!closers.length) {
        if (at < text.length) fail("text after the end of the JSON value");
        return;
      }
      const open = closers.at(-1);
      if (text[at] === open) {
        at++;
        closers.pop();
        continue;
      }
      if (text[at] !== ",") expect(`"," or "${open}"`);
      at++;
      if (open === "}") key();
      break;
    }
  }
}
