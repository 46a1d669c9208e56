// Names of PocketBase's filter language resolved against the collections, for the API rules
// editor: what a path such as `author.team.name` walks through (relations, back relations
// `posts_via_author`, `@request.*`, `@collection.<name>.*`), where it goes wrong, and what may
// come next at the caret.
//
// A scope is `{ self, collections }`: the collection being edited (the unsaved draft, so new
// fields count) among the saved ones.

export const MACROS = ["@now", "@yesterday", "@tomorrow", "@todayStart", "@todayEnd", "@monthStart",
  "@monthEnd", "@yearStart", "@yearEnd", "@second", "@minute", "@hour", "@weekday", "@day", "@month",
  "@year"];
const MODIFIERS = ["lower", "each", "length", "isset", "changed"];
const REQUEST_KEYS = ["context", "method", "auth", "body", "query", "headers"];
// Their sub-paths are keys of the stored JSON, not of the schema.
const OPEN_ENDED = new Set(["json", "geoPoint"]);
const LOWER_TYPES = new Set(["text", "editor", "email"]);
const MULTI_TYPES = new Set(["select", "relation", "file"]);
// Fields the server adds to a new collection, so a draft may name them before they exist.
const IMPLICIT = { base: ["id"], view: [], auth: ["id", "email", "emailVisibility", "verified", "password", "tokenKey"] };

function find(scope, idOrName) {
  const { self, collections } = scope;
  if (idOrName && (idOrName === self.id || idOrName === self.name)) return self;
  const lower = String(idOrName).toLowerCase();
  return collections.find((item) => item.id === idOrName || item.name.toLowerCase() === lower) || null;
}

function fieldsOf(collection) {
  const fields = collection.fields || [];
  const missing = (IMPLICIT[collection.type] || IMPLICIT.base)
    .filter((name) => !fields.some((field) => field.name === name))
    .map((name) => ({ name, type: name === "verified" || name === "emailVisibility" ? "bool" : "text" }));
  return [...missing, ...fields];
}

// Back relations into `collection`: `<other>_via_<its relation field>`.
function backRelations(scope, collection) {
  if (!collection.id) return [];
  return scope.collections.flatMap((other) => (other.fields || [])
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
  for (const collection of scope.collections.filter((item) => item.type === "auth")) {
    for (const field of fieldsOf(collection)) if (!fields.has(field.name)) fields.set(field.name, field);
  }
  for (const name of ["collectionId", "collectionName"]) fields.set(name, { name, type: "text" });
  return { name: "@request.auth", type: "auth", fields: [...fields.values()] };
}

/** Where the path `name` goes wrong, as {offset, message} (offset in `name`), or null. Only
 * what is surely wrong: unknown `@request.auth.*` and `@request.body.*` keys are NULL to the
 * server, so they are not flagged. */
export function pathProblem(name, scope) {
  const segments = name.split(".");
  const offset = (index) => segments.slice(0, index).join(".").length + (index ? 1 : 0);
  const at = (index, message) => ({ offset: offset(index), message });
  const [first, second] = segments;
  if (first === "@request") {
    const key = (second || "").split(":")[0];
    return REQUEST_KEYS.includes(key) ? null : at(1, `@request has no "${second || ""}"`);
  }
  if (first === "@collection") {
    const collection = second && find(scope, second.split(":")[0]);
    if (!collection) return at(1, `no collection named "${(second || "").split(":")[0]}"`);
    if (segments.length < 3) return at(1, `a field of @collection.${second} expected`);
    return walkProblem(scope, collection, segments, 2, at);
  }
  if (first.startsWith("@")) return MACROS.includes(name) ? null : at(0, `unknown macro "${name}"`);
  return walkProblem(scope, scope.self, segments, 0, at);
}

function walkProblem(scope, collection, segments, from, at) {
  for (let index = from; index < segments.length; index++) {
    const [name, modifier, extra] = segments[index].split(":");
    const last = index === segments.length - 1;
    const found = member(scope, collection, name);
    if (!found) {
      // a view's fields come from its query, which may have changed since it was saved
      if (collection === scope.self && collection.type === "view") return null;
      return at(index, `no field named "${name}" in ${collection.name || "this collection"}`);
    }
    if (modifier !== undefined && (extra !== undefined || !MODIFIERS.includes(modifier))) {
      return at(index, `unknown modifier ":${segments[index].split(":").slice(1).join(":")}"`);
    }
    if (last || (found.field && OPEN_ENDED.has(found.field.type))) return null;
    if (found.field && found.field.type !== "relation") return at(index, `"${name}" is not a relation`);
    if (!found.next) return null; // its collection is not known here: the server decides
    collection = found.next;
  }
  return null;
}

/** What may replace `word` (the name typed before the caret), best first. */
export function completions(word, scope) {
  const segments = word.split(".");
  const [first, second] = segments;
  if (segments.length === 1 && first.startsWith("@")) {
    return startingWith(word, [...MACROS, "@request.", "@collection."]);
  }
  if (first === "@request") {
    if (segments.length === 2) {
      return startingWith(word, REQUEST_KEYS.map((key) => `@request.${key}${["context", "method"].includes(key) ? "" : "."}`));
    }
    if (second === "auth") return fieldCompletions(scope, authCollection(scope), "@request.auth.", segments.slice(2), []);
    if (second === "body") return fieldCompletions(scope, scope.self, "@request.body.", segments.slice(2), ["isset", "changed"]);
    return [];
  }
  if (first === "@collection") {
    if (segments.length === 2) {
      const names = scope.collections.filter((item) => !item.system).map((item) => `@collection.${item.name}.`);
      return startingWith(word, names);
    }
    const collection = find(scope, second.split(":")[0]);
    return collection ? fieldCompletions(scope, collection, `@collection.${second}.`, segments.slice(2), []) : [];
  }
  return first.startsWith("@") ? [] : fieldCompletions(scope, scope.self, "", segments, []);
}

function startingWith(word, candidates) {
  const lower = word.toLowerCase();
  return candidates.filter((item) => item.toLowerCase().startsWith(lower) && item !== word);
}

// The members of the collection `path` leads to, whose names start with its last segment.
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
  const members = [
    ...fieldsOf(collection).filter((field) => field.type !== "password" && field.name !== "tokenKey")
      .map((field) => ({ name: field.name, field, relation: field.type === "relation" })),
    ...backRelations(scope, collection).map((item) => ({ name: item.name, relation: true })),
  ];
  const exact = members.find((item) => item.name === last);
  const more = exact ? [
    ...(exact.relation ? [`${last}.`] : []),
    ...(exact.field ? modifiersOf(exact.field, extraModifiers).map((item) => `${last}:${item}`) : []),
  ] : [];
  return [...startingWith(last, members.map((item) => item.name)), ...more].map((item) => prefix + item);
}

function modifiersOf(field, extra) {
  return [
    ...(LOWER_TYPES.has(field.type) ? ["lower"] : []),
    ...(MULTI_TYPES.has(field.type) && field.maxSelect > 1 ? ["each", "length"] : []),
    ...extra,
  ];
}
