// Names of PocketBase's filter language resolved against the collections, for the API rules
// editor and the records' filter box: what a path such as `author.team.name` walks through
// (relations, back relations `posts_via_author.*`, `@request.*`, `@collection.<name>.*`),
// where it goes wrong, and what may come next at the caret.
//
// A scope is `{ self, collections }`: the collection being edited or filtered (for the rules,
// the unsaved draft, so new fields count) among the saved ones.

export const MACROS = ["@now", "@yesterday", "@tomorrow", "@todayStart", "@todayEnd", "@monthStart",
  "@monthEnd", "@yearStart", "@yearEnd", "@second", "@minute", "@hour", "@weekday", "@day", "@month",
  "@year"];
const MODIFIERS = ["lower", "each", "length", "isset", "changed"];
// `@request.context` and `.method` are values; the others hold keys (`@request.auth.id`).
const REQUEST_VALUES = ["context", "method"];
const REQUEST_OBJECTS = ["auth", "body", "query", "headers"];
// Offered after `@request.query.` (the list API's parameters) and `@request.headers.` (common
// headers, named as PocketBase names them: lower case, "-" turned into "_"). Any key is allowed.
const QUERY_KEYS = ["page", "perPage", "sort", "filter", "expand", "fields", "skipTotal"];
const HEADER_KEYS = ["authorization", "content_type", "origin", "referer", "user_agent", "x_forwarded_for",
  "x_real_ip", "x_token"];
// Their sub-paths are keys of the stored JSON, not of the schema.
const OPEN_ENDED = new Set(["json", "geoPoint"]);
const LOWER_TYPES = new Set(["text", "editor", "email"]);
const MULTI_TYPES = new Set(["select", "relation", "file"]);
// Fields the server adds to a new collection (name: type), so a draft may name them before
// they exist.
const IMPLICIT = {
  base: { id: "text" },
  view: {},
  auth: { id: "text", email: "email", emailVisibility: "bool", verified: "bool", password: "password", tokenKey: "text" },
};

// The saved collections, the edited one as its draft (so its new relation fields count).
function collectionsOf(scope) {
  const { self, collections } = scope;
  return collections.map((item) => (self.id && item.id === self.id ? self : item));
}

function find(scope, idOrName) {
  const { self } = scope;
  if (idOrName && (idOrName === self.id || idOrName === self.name)) return self;
  const lower = String(idOrName).toLowerCase();
  return collectionsOf(scope).find((item) => item.id === idOrName || item.name.toLowerCase() === lower) || null;
}

function fieldsOf(collection) {
  const fields = collection.fields || [];
  const missing = Object.entries(IMPLICIT[collection.type] || IMPLICIT.base)
    .filter(([name]) => !fields.some((field) => field.name === name))
    .map(([name, type]) => ({ name, type }));
  return [...missing, ...fields];
}

// Back relations into `collection`: `<other>_via_<its relation field>`, always followed by a
// field of the other collection.
function backRelations(scope, collection) {
  if (!collection.id) return [];
  return collectionsOf(scope).flatMap((other) => (other.fields || [])
    .filter((field) => field.type === "relation" && field.collectionId === collection.id)
    .map((field) => ({ name: `${other.name}_via_${field.name}`, next: other })));
}

// What `name` is in `collection`: { field?, next } (next: the collection a relation leads to),
// or null.
function member(scope, collection, name) {
  const field = fieldsOf(collection).find((item) => item.name === name);
  if (field) return { field, next: field.type === "relation" ? find(scope, field.collectionId) : null };
  return backRelations(scope, collection).find((item) => item.name === name) || null;
}

// Every auth collection's fields, as `@request.auth` may be a record of any of them.
function authCollection(scope) {
  const fields = new Map();
  for (const collection of collectionsOf(scope).filter((item) => item.type === "auth")) {
    for (const field of fieldsOf(collection)) if (!fields.has(field.name)) fields.set(field.name, field);
  }
  for (const name of ["collectionId", "collectionName"]) fields.set(name, { name, type: "text" });
  return { name: "@request.auth", type: "auth", fields: [...fields.values()] };
}

/** Where the path `name` goes wrong, as {offset, message} (offset in `name`), or null. Only
 * what the server surely refuses: unknown `@request.auth.*`, `.body.*`, `.query.*` and
 * `.headers.*` keys are NULL to it, so they are not flagged. */
export function pathProblem(name, scope) {
  const segments = name.split(".");
  const offset = (index) => segments.slice(0, index).join(".").length + (index ? 1 : 0);
  const at = (index, message) => ({ offset: offset(index), message });
  const [first, second] = segments;
  if (first === "@request") {
    const [key, modifier] = (second ?? "").split(":");
    if (REQUEST_VALUES.includes(key)) {
      return segments.length > 2 || modifier !== undefined ? at(1, `@request.${key} has no parts nor modifiers`) : null;
    }
    if (REQUEST_OBJECTS.includes(key)) {
      return segments.length > 2 && segments.at(-1) ? null : at(1, `a key of @request.${key} expected`);
    }
    return at(1, key ? `@request has no "${key}"` : "a key of @request expected");
  }
  if (first === "@collection") {
    const collection = second && find(scope, second.split(":")[0]);
    if (!collection) return at(1, `no collection named "${(second || "").split(":")[0]}"`);
    if (segments.length < 3) return at(1, `a field of @collection.${second} expected`);
    return walkProblem(scope, collection, segments, 2, at);
  }
  if (first.startsWith("@")) {
    if (MACROS.includes(name)) return null;
    return at(0, MACROS.includes(name.split(":")[0]) ? "a macro takes no modifier" : `unknown macro "${name}"`);
  }
  return walkProblem(scope, scope.self, segments, 0, at);
}

function walkProblem(scope, collection, segments, from, at) {
  for (let index = from; index < segments.length; index++) {
    const [name, modifier, extra] = segments[index].split(":");
    const last = index === segments.length - 1;
    if (!name) return at(index, "a field name expected");
    const found = member(scope, collection, name);
    if (!found) {
      // a view's fields come from its query, which may have changed since it was saved
      if (collection === scope.self && collection.type === "view") return null;
      return at(index, `no field named "${name}" in ${collection.name || "this collection"}`);
    }
    if (modifier !== undefined && (extra !== undefined || !MODIFIERS.includes(modifier))) {
      return at(index, `unknown modifier ":${segments[index].split(":").slice(1).join(":")}"`);
    }
    if (!found.field && (last || modifier !== undefined)) {
      return at(index, `"${name}" is a back relation: name a field of it (${name}.id)`);
    }
    if (last || (found.field && OPEN_ENDED.has(found.field.type))) return null;
    if (found.field && found.field.type !== "relation") return at(index, `"${name}" is not a relation`);
    if (!found.next) return null; // its collection is not known here: the server decides
    collection = found.next;
  }
  return null;
}

/** What may replace `word` (the name typed before the caret), best first, each once. */
export function completions(word, scope) {
  const segments = word.split(".");
  const [first, second] = segments;
  let found = [];
  if (segments.length === 1 && first.startsWith("@")) {
    found = startingWith(word, [...MACROS, "@request.", "@collection."]);
  } else if (first === "@request") {
    found = requestCompletions(word, segments, scope);
  } else if (first === "@collection") {
    if (segments.length === 2) {
      const names = collectionsOf(scope).filter((item) => !item.system).map((item) => `@collection.${item.name}.`);
      found = startingWith(word, names);
    } else {
      const collection = find(scope, second.split(":")[0]);
      if (collection) found = fieldCompletions(scope, collection, `@collection.${second}.`, segments.slice(2), []);
    }
  } else if (!first.startsWith("@")) {
    found = fieldCompletions(scope, scope.self, "", segments, []);
  }
  return [...new Set(found)];
}

function requestCompletions(word, segments, scope) {
  const key = segments[1];
  if (segments.length === 2) {
    return startingWith(word, [...REQUEST_VALUES, ...REQUEST_OBJECTS.map((item) => `${item}.`)]
      .map((item) => `@request.${item}`));
  }
  if (key === "auth") return fieldCompletions(scope, authCollection(scope), "@request.auth.", segments.slice(2), []);
  if (key === "body") return fieldCompletions(scope, scope.self, "@request.body.", segments.slice(2), ["isset", "changed"]);
  const keys = { query: QUERY_KEYS, headers: HEADER_KEYS }[key];
  return keys && segments.length === 3 ? startingWith(word, keys.map((item) => `@request.${key}.${item}`)) : [];
}

function startingWith(word, candidates) {
  const lower = word.toLowerCase();
  return candidates.filter((item) => item.toLowerCase().startsWith(lower) && item !== word);
}

// The members of the collection `path` leads to, whose names start with its last segment; a
// complete name is followed by what may extend it (`author.`, `title:lower`).
function fieldCompletions(scope, collection, prefix, path, extraModifiers) {
  for (const segment of path.slice(0, -1)) {
    const found = member(scope, collection, segment);
    if (!found?.next) return [];
    collection = found.next;
    prefix += segment + ".";
  }
  const last = path.at(-1);
  const [name, modifier] = last.split(":");
  if (modifier !== undefined) {
    const found = member(scope, collection, name);
    return found?.field ? startingWith(last, modifiersOf(found.field, extraModifiers).map((item) => `${name}:${item}`))
      .map((item) => prefix + item) : [];
  }
  const fields = fieldsOf(collection).filter((field) => field.type !== "password" && field.name !== "tokenKey");
  const exact = fields.find((field) => field.name === last);
  const more = exact ? [
    ...(exact.type === "relation" ? [`${last}.`] : []),
    ...modifiersOf(exact, extraModifiers).map((item) => `${last}:${item}`),
  ] : [];
  const names = [...fields.map((field) => field.name), ...backRelations(scope, collection).map((item) => `${item.name}.`)];
  return [...startingWith(last, names), ...more].map((item) => prefix + item);
}

function modifiersOf(field, extra) {
  return [
    ...(LOWER_TYPES.has(field.type) ? ["lower"] : []),
    ...(MULTI_TYPES.has(field.type) && field.maxSelect > 1 ? ["each", "length"] : []),
    ...extra,
  ];
}
