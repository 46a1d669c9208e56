// A quick look at a filter or an API rule before it is sent, so a typo is pointed at
// ("Column 9: ...") instead of the server's generic 400. It only refuses what is surely wrong;
// the server still has the last word (its message is shown when it refuses what passes here).
import { pathProblem } from "./filterPaths.js";

const OPERATORS = new Set(["=", "!=", ">", ">=", "<", "<=", "~", "!~",
  "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"]);
const JOINERS = new Set(["&&", "||"]);
const LITERALS = new Set(["true", "false", "null"]);
const FUNCTIONS = new Set(["geoDistance", "strftime"]);

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

// expression := term (joiner term)* ; term := "(" expression ")" | value [operator value]
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
    } else {
      if (!FUNCTIONS.has(token.text)) throw problem(token.start, `no function named "${token.text}"`);
      at++;
      value();
      while (next()?.kind === ",") { at++; value(); }
      expect(")", '")"');
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
    if (next()?.kind === "operator") { at++; value(); }
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
  return /^['"\d.+-]/.test(text) || LITERALS.has(text);
}

function check(text, checkName) {
  if (!text.trim()) return "";
  try {
    parse(tokenize(text), text.length, checkName);
    return "";
  } catch (error) {
    const before = text.slice(0, error.index).split("\n");
    const where = before.length > 1 ? `Line ${before.length}, column ${before.at(-1).length + 1}` :
      `Column ${error.index + 1}`;
    return `${where}: ${error.message}.`;
  }
}

// The problem with `text` as a message, or "" when none is seen. `fields`: the names a
// filter may start from (null: any); only the first part of a name is checked (`author.name`
// checks `author`; back relations, `posts_via_author`, are left to the server).
export function checkFilter(text, fields = null) {
  return check(text, (token) => {
    const field = token.text.split(/[.:]/)[0];
    if (fields && !token.text.startsWith("@") && !token.text.includes("_via_") && !fields.includes(field)) {
      throw problem(token.start, `no field named "${field}"`);
    }
  });
}

// The problem with an API rule of a collection as a message, or "" when none is seen: every
// part of a name is checked, through relations and `@collection.*` (see filterPaths.js).
// `scope`: {self: the collection (its draft), collections: the saved ones}.
export function checkRule(text, scope) {
  return check(text, (token) => {
    const found = pathProblem(token.text, scope);
    if (found) throw problem(token.start + found.offset, found.message);
  });
}
