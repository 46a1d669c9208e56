// A quick look at a filter before it is sent, so a typo is pointed at ("column 9: ...")
// instead of the server's generic 400. It only refuses what is surely wrong; the server
// still has the last word (its message is shown when it refuses what passes here).

const OPERATORS = new Set(["=", "!=", ">", ">=", "<", "<=", "~", "!~",
  "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"]);
const JOINERS = new Set(["&&", "||"]);
const LITERALS = new Set(["true", "false", "null"]);

function tokenize(text) {
  const tokens = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    const start = at;
    if (/\s/.test(char)) {
      at++;
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
  return new Error(`Column ${index + 1}: ${message}.`);
}

// expression := term (joiner term)* ; term := "(" expression ")" | value [operator value]
// value := operand | name "(" value ("," value)* ")"
function parse(tokens, end, fields) {
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
    if (next()?.kind !== "(") checkField(token, fields);
    else {
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

// A name the collection does not have (its first part: `author.name` checks `author`;
// back relations, `posts_via_author`, are left to the server).
function checkField(token, fields) {
  const name = token.text;
  if (!fields || /^['"@\d.+-]/.test(name) || LITERALS.has(name) || name.includes("_via_")) return;
  const field = name.split(/[.:]/)[0];
  if (!fields.includes(field)) throw problem(token.start, `no field named "${field}"`);
}

// The problem with `text` as a message, or "" when none is seen. `fields`: the names a
// filter may start from (null: any).
export function checkFilter(text, fields = null) {
  if (!text.trim()) return "";
  try {
    parse(tokenize(text), text.length, fields);
    return "";
  } catch (error) {
    return error.message;
  }
}
