// A quick look at a filter or an API rule before it is sent, so a typo is pointed at
// ("Column 9: ...") instead of the server's generic 400. It only refuses what is surely wrong;
// the server still has the last word (its message is shown when it refuses what passes here).
// The same check serves the API rules editor and the records' and logs' filter boxes.
import { pathProblem } from "./filterPaths.js";

const OPERATORS = new Set(["=", "!=", ">", ">=", "<", "<=", "~", "!~",
  "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"]);
const JOINERS = new Set(["&&", "||"]);
// Keywords, in any case, as the server reads them.
const LITERALS = new Set(["true", "false", "null"]);
// Each function's least and most arguments.
const FUNCTIONS = { geoDistance: [4, 4], strftime: [1, 10] };

function tokenize(text) {
  const tokens = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    const start = at;
    if (/\s/.test(char)) {
      at++;
    } else if (text.startsWith("//", at)) { // a comment, to the end of its line
      at = text.indexOf("\n", at) < 0 ? text.length : text.indexOf("\n", at);
    } else if (char === '"' || char === "'") {
      at++;
      while (at < text.length && text[at] !== char) at += text[at] === "\\" ? 2 : 1;
      if (at >= text.length) throw problem(start, `the quote ${char} is never closed`);
      tokens.push({ kind: "operand", text: text.slice(start, ++at), start });
    } else if ("()".includes(char) || char === ",") {
      tokens.push({ kind: char, text: char, start });
      at++;
    } else if ("=!<>~?&|".includes(char)) {
      while (at < text.length && "=!<>~?&|".includes(text[at])) at++;
      const symbol = text.slice(start, at);
      const kind = OPERATORS.has(symbol) ? "operator" : JOINERS.has(symbol) ? "joiner" : null;
      if (!kind) throw problem(start, `unknown operator "${symbol}"`);
      tokens.push({ kind, text: symbol, start });
    } else {
      while (at < text.length && /[\w.@:\-+]/.test(text[at])) at++;
      if (at === start) throw problem(start, `unexpected "${char}"`);
      tokens.push({ kind: "operand", text: text.slice(start, at), start });
    }
  }
  return tokens;
}

function problem(index, message) {
  return Object.assign(new Error(message), { index });
}

// expression := term (joiner term)* ; term := "(" expression ")" | value operator value
// value := operand | name "(" value ("," value)* ")"
function parse(tokens, end, checkName) {
  let at = 0;
  const next = () => tokens[at];
  const expect = (kind, what) => {
    const token = next();
    if (!token) throw problem(end, `${what} expected at the end`);
    if (token.kind !== kind) throw problem(token.start, `${what} expected, found "${token.text}"`);
    at++;
    return token;
  };
  const value = () => {
    const token = expect("operand", "a field or value");
    if (next()?.kind !== "(") {
      if (!isLiteral(token.text)) checkName(token);
      return;
    }
    if (!Object.hasOwn(FUNCTIONS, token.text)) throw problem(token.start, `no function named "${token.text}"`);
    at++;
    let count = 1;
    value();
    while (next()?.kind === ",") { at++; count++; value(); }
    expect(")", '")"');
    const [least, most] = FUNCTIONS[token.text];
    if (count < least || count > most) {
      const wanted = least === most ? least : `${least} to ${most}`;
      throw problem(token.start, `${token.text} takes ${wanted} arguments, not ${count}`);
    }
  };
  const term = () => {
    if (next()?.kind === "(") {
      const open = next();
      at++;
      expression();
      if (!next()) throw problem(open.start, 'this "(" is never closed');
      expect(")", '")"');
      return;
    }
    value();
    expect("operator", "an operator");
    value();
  };
  const expression = () => {
    term();
    while (next()?.kind === "joiner") { at++; term(); }
  };
  expression();
  if (next()) {
    const token = next();
    const what = token.kind === ")" ? 'this ")" closes nothing' :
      `an operator or "&&" / "||" expected before "${token.text}"`;
    throw problem(token.start, what);
  }
}

function isLiteral(text) {
  return /^['"\d.+-]/.test(text) || LITERALS.has(text.toLowerCase());
}

function check(text, checkName, caret) {
  if (!text.trim()) return "";
  try {
    parse(tokenize(text), text.length, checkName);
    return "";
  } catch (error) {
    if (error.index === text.length && caret >= text.trimEnd().length) return ""; // still typing
    const before = text.slice(0, error.index).split("\n");
    const where = before.length > 1 ? `Line ${before.length}, column ${before.at(-1).length + 1}` :
      `Column ${error.index + 1}`;
    return `${where}: ${error.message}.`;
  }
}

/** The problem with the filter or API rule `text` as a message, or "" when none is seen. Every
 * part of every name is checked in `scope` ({self, collections}: see filterPaths.js; a plain
 * list of names, for a list that is no collection such as the logs, is taken as fields holding
 * JSON). `caret`: where typing goes on, so a name that ends there in "." or ":", or a rule that
 * ends there unfinished, is left alone. */
export function checkFilter(text, scope, caret = -1) {
  const resolved = Array.isArray(scope) ?
    { self: { fields: scope.map((name) => ({ name, type: "json" })) }, collections: [] } : scope;
  return check(text, (token) => {
    const end = token.start + token.text.length;
    if (end === caret && /[.:]$/.test(token.text)) return;
    const found = pathProblem(token.text, resolved);
    if (found) throw problem(token.start + found.offset, found.message);
  }, caret);
}

/** The name being typed before `caret` (back to a space, operator or parenthesis), or "" when
 * the caret is in a quoted text or a `//` comment. */
export function wordBefore(text, caret) {
  let quote = null;
  for (let at = 0; at < caret; at++) {
    const char = text[at];
    if (quote) {
      if (char === "\\") at++;
      else if (char === quote) quote = null;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (text.startsWith("//", at)) {
      const end = text.indexOf("\n", at);
      if (end < 0 || end >= caret) return "";
      at = end;
    }
  }
  return quote ? "" : text.slice(0, caret).match(/[@\w.:]*$/)[0];
}
