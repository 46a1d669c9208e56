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
    if (!(wrong instanceof Wrong)) throw wrong;
    const before = text.slice(0, wrong.at);
    const line = before.split("\n").length;
    const column = wrong.at - before.lastIndexOf("\n");
    return { at: wrong.at, message: `Invalid JSON at line ${line}, column ${column}: ${wrong.reason}.` };
  }
}

function scan(text) {
  let at = 0;
  const fail = (reason, where = at) => {
    throw new Wrong(where, reason);
  };
  const space = () => {
    while (at < text.length && WHITESPACE.includes(text[at])) at++;
  };
  const expect = (what) => fail(at < text.length ? `${what} expected, not "${text[at]}"` : `${what} expected at the end`);

  function value() {
    space();
    const char = text[at];
    if (char === "{") return members("}", () => {
      space();
      if (text[at] !== '"') expect("a property name in double quotes");
      string();
      space();
      if (text[at] !== ":") expect('":"');
      at++;
      value();
    });
    if (char === "[") return members("]", value);
    if (char === '"') return string();
    NUMBER.lastIndex = at;
    if (NUMBER.test(text)) return (at = NUMBER.lastIndex);
    const word = ["true", "false", "null"].find((item) => text.startsWith(item, at));
    if (word) return (at += word.length);
    expect("a value");
  }

  // An object's or an array's items, comma-separated, up to ``close``.
  function members(close, item) {
    at++;
    space();
    if (text[at] === close) return at++;
    for (;;) {
      item();
      space();
      if (text[at] === close) return at++;
      if (text[at] !== ",") expect(`"," or "${close}"`);
      at++;
    }
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

  value();
  space();
  if (at < text.length) fail("text after the end of the JSON value");
}
